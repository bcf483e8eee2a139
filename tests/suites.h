/* suites.h: the Check suites, one per module (tests/check_<module>.c). */
#ifndef V6R_TEST_SUITES_H
#define V6R_TEST_SUITES_H

#include <check.h>

Suite *addr_suite(void);
Suite *store_suite(void);
Suite *cfg_suite(void);
Suite *tmpl_suite(void);
Suite *lookup_suite(void);
Suite *listfile_suite(void);
Suite *answer_suite(void);

#endif
