#!/usr/bin/perl
# Binds listening TCP sockets here, in the caller's network namespace, and
# runs a command that inherits them through nginx's own NGINX=fd;fd;
# variable. make cluster uses it to start nginx inside the cluster's
# namespace while it still listens on the host's 127.0.0.1.
# Usage: listen.pl ADDR:PORT ... -- COMMAND ARG ...
# Exit 98 when an address cannot be bound (taken), 127 when exec fails.
use strict;
use warnings;
use IO::Socket::INET;
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);

my (@addrs, @socks);
while (@ARGV && $ARGV[0] ne '--') {
	push @addrs, shift @ARGV;
}
shift @ARGV;
die "usage: listen.pl ADDR:PORT ... -- COMMAND ...\n" if !@addrs || !@ARGV;
for my $addr (@addrs) {
	my $s = IO::Socket::INET->new(
		LocalAddr => $addr,
		Listen    => 511,
		ReuseAddr => 1,
		Proto     => 'tcp'
	) or exit 98;
	my $flags = fcntl($s, F_GETFD, 0);
	fcntl($s, F_SETFD, $flags & ~FD_CLOEXEC) or exit 98;
	push @socks, $s;
}
$ENV{NGINX} = join('', map { fileno($_) . ';' } @socks);
exec { $ARGV[0] } @ARGV or exit 127;
