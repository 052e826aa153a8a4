#!/usr/bin/perl
# Binds listening TCP sockets here, in the caller's network namespace, and
# runs a command that inherits them through nginx's own NGINX=fd;fd;
# variable. make cluster uses it to start nginx inside the cluster's
# namespace while it still listens on the host's 127.0.0.1.
# The sockets are non-blocking, as nginx makes its own: nginx takes
# inherited sockets as they are, and its workers, several of which may be
# woken for one connection, accept on them. On a blocking socket the worker
# that loses that race sleeps inside accept(2) until the next connection,
# and every request it holds meanwhile waits with it: its upstream answers
# sat unread while the app's workers waited for nginx to close them.
# Usage: listen.pl ADDR:PORT ... -- COMMAND ARG ...
# Exit 98 when an address cannot be bound (taken), 127 when exec fails.
use strict;
use warnings;
use IO::Socket::INET;
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC F_GETFL F_SETFL O_NONBLOCK);

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
	$flags = fcntl($s, F_GETFL, 0);
	fcntl($s, F_SETFL, $flags | O_NONBLOCK) or exit 98;
	push @socks, $s;
}
$ENV{NGINX} = join('', map { fileno($_) . ';' } @socks);
exec { $ARGV[0] } @ARGV or exit 127;
