/* check_main.c: runs every Check unit suite of v6rep. */
#include <check.h>
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(addr_suite());

	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, cfg_suite());
	srunner_add_suite(sr, tmpl_suite());
	srunner_add_suite(sr, lookup_suite());
	srunner_add_suite(sr, listfile_suite());
	srunner_add_suite(sr, answer_suite());
	srunner_add_suite(sr, render_suite());
	srunner_add_suite(sr, xfr_suite());
	srunner_add_suite(sr, ingest_suite());
	srunner_add_suite(sr, enrich_suite());
	Suite *(*const optional[])(void) = { pcap_suite, mlog_suite, p0f_suite };
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (optional[i])
			srunner_add_suite(sr, optional[i]());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
