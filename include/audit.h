/*
 * The ledger audit: the invariants of the money, checked in the database.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include "config.h"

/*
 * Checks that money is conserved (all balances == all deposits), that each
 * balance equals the sum of its entries, that no balance is negative,
 * that each movement's entries sum to zero, and that each reversal undoes
 * its transfer once (from its recipient to its sender, its fee, at most
 * its amount). Prints a report on stdout and
 * returns 0 when all hold, 1 when any does not, 2 when it cannot connect.
 */
int audit_run(const struct config *cfg);

#endif /* AUDIT_H */
