/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CONF_PATTERN_H
#define DKMS_BOOT_CONF_PATTERN_H

#include "lib/util.h"

/*
 * Package-supplied extended regular expressions (MAKE_MATCH, PATCH_MATCH,
 * BUILD_EXCLUSIVE_*), matched with glibc's regcomp/regexec as bash and
 * grep -E do, but never unbounded in our own process: glibc's matcher
 * recurses without limit on back-references ("(|)(\1\1)*" exhausts any
 * stack) and expands {n,m} counts into copies of the automaton.
 *
 * A conservative screen admits the patterns dkms.conf files really use
 * (anchors, classes, alternatives, small counts) for an in-process
 * match.  Any other pattern up to PATTERN_MAX_LEN is matched in a forked
 * child with memory, stack and CPU limits and a time limit; longer ones
 * are refused.
 */
#define PATTERN_MAX_LEN	    4096 /* refused above this */
#define PATTERN_SAFE_LEN    1024 /* in-process at most this long */
#define PATTERN_SAFE_DEPTH  8	 /* nested groups, in-process */
#define PATTERN_SAFE_COUNT  255	 /* product of {n,m} bounds, in-process */
#define PATTERN_CHILD_MS    2000
#define PATTERN_CHILD_AS    (256UL << 20)
#define PATTERN_CHILD_STACK (8UL << 20)
#define PATTERN_CHILD_CPU_S 2

enum pattern_safety {
	PATTERN_SAFE,	  /* regexec in process */
	PATTERN_CONFINED, /* regexec in a limited child */
	PATTERN_REFUSED,  /* not matched at all */
};

/* Classify pattern; why (may be NULL) says what made it unsafe. */
enum pattern_safety pattern_screen(const char *pattern, char *why,
				   size_t why_len);

/*
 * Does text match pattern (REG_EXTENDED, as bash's =~)?  With by_line,
 * does any line of it (cut at '\n'; a last line without one counts), as
 * grep -qE?  0 match, 1 no match, 2 the pattern does not compile.  Or a
 * negative errno: -ENOMEM, -E2BIG (refused by the screen), -ETIME (the child
 * ran out of time), -EFAULT (the child was killed: stack or memory exhausted),
 * or fork's errors. why (may be NULL) words a negative result.
 */
int pattern_match(const char *text, const char *pattern, bool by_line,
		  char *why, size_t why_len);

#endif
