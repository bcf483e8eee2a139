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
Suite *render_suite(void);
Suite *xfr_suite(void);
Suite *ingest_suite(void);
Suite *enrich_suite(void);

/* Ingest suites, weak while their modules are being written; check_main skips a missing one. */
Suite *pcap_suite(void) __attribute__((weak));
Suite *mlog_suite(void) __attribute__((weak));
Suite *p0f_suite(void) __attribute__((weak));

#endif
