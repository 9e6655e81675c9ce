// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Headroom: which ports count as active in the sliding window, the peak
 * kept per range (and aged out when the table is full), and what a peak
 * means for a TURN or LiveKit range with 10% to spare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "counters.h"
#include "headroom.h"

#define S 1000000000ull

static struct pw_range range(const char *svc, enum pw_proto p, unsigned first,
			     unsigned last)
{
	struct pw_range r = { .proto = p, .first = (uint16_t)first,
			      .last = (uint16_t)last, .required = true };

	snprintf(r.service, sizeof(r.service), "%s", svc);
	return r;
}

static void test_a_peak_means_calls_or_participants_and_headroom(void **state)
{
	struct pw_range turn = range("snikket", PW_PROTO_UDP, 49152, 49251);
	struct pw_range lk = range("plugnmeet", PW_PROTO_UDP, 50000, 60000);
	struct pw_range other = range("media", PW_PROTO_UDP, 30000, 30087);
	struct pw_headroom h;

	(void)state;
	/* Snikket's own example: 20 users, 80 ports, plus 10%: about 90. */
	pw_headroom_of(&turn, 80, &h);
	assert_int_equal(h.kind, PW_MEDIA_TURN);
	assert_int_equal(h.implied, 20);
	assert_int_equal(h.suggested, 88);
	assert_int_equal(h.declared, 100);
	assert_true(h.known);
	assert_true(h.enough);
	pw_headroom_of(&turn, 91, &h);		/* 101 needed, 100 declared */
	assert_int_equal(h.implied, 23);
	assert_int_equal(h.suggested, 101);
	assert_false(h.enough);
	pw_headroom_of(&lk, 7, &h);
	assert_int_equal(h.kind, PW_MEDIA_LIVEKIT);
	assert_int_equal(h.implied, 4);		/* 7 ports: 4 participants */
	assert_int_equal(h.suggested, 8);
	pw_headroom_of(&other, 80, &h);
	assert_int_equal(h.kind, PW_MEDIA_PORTS);
	assert_int_equal(h.suggested, 88);
	assert_true(h.enough);			/* 88 declared */
	pw_headroom_of(&other, 0, &h);
	assert_false(h.known);
	assert_int_equal(pw_media_kind_of("Coturn"), PW_MEDIA_TURN);
	assert_int_equal(pw_media_kind_of("my-TURN-relay"), PW_MEDIA_TURN);
	assert_int_equal(pw_media_kind_of("LiveKit"), PW_MEDIA_LIVEKIT);
	assert_int_equal(pw_media_kind_of("xmpp"), PW_MEDIA_PORTS);
	assert_true(pw_is_media_range(&turn));
	assert_false(pw_is_media_range(&(struct pw_range){ .proto = PW_PROTO_UDP, .first = 3478, .last = 3479 }));
	assert_false(pw_is_media_range(&(struct pw_range){ .proto = PW_PROTO_TCP, .first = 1, .last = 1000 }));
}

struct fixture {
	struct pw_hist_table *h;
	struct pw_decl_table *decl;
};

/* Ports first..last of UDP declared with consecutive indexes. */
static void declare(struct fixture *f, unsigned first, unsigned last)
{
	static uint16_t next = 1;
	unsigned p;

	for (p = first; p <= last; p++)
		f->decl->index1[PW_PORTS_PER_PROTO + p] = next++;
}

static void active_at(struct fixture *f, unsigned port, uint64_t ns)
{
	f->h->port[f->decl->index1[PW_PORTS_PER_PROTO + port] - 1].active_ns = ns;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->h = calloc(1, sizeof(*f->h));
	f->decl = calloc(1, sizeof(*f->decl));
	*state = f;
	return f->h && f->decl ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->h);
	free(f->decl);
	free(f);
	return 0;
}

static void test_active_is_the_ports_that_grew_within_the_window(void **state)
{
	struct fixture *f = *state;
	struct pw_range r = range("turn", PW_PROTO_UDP, 49152, 49161);
	uint64_t now = 1000 * S;

	declare(f, 49152, 49161);
	active_at(f, 49152, now);		/* this fold */
	active_at(f, 49153, now - 29 * S);	/* inside 30 s */
	active_at(f, 49154, now - 30 * S);	/* just out */
	active_at(f, 49155, now + 5 * S);	/* a later fold than asked: not yet */
	assert_int_equal(pw_range_active(f->h, f->decl, &r, now, 30), 2);
	assert_int_equal(pw_range_active(f->h, f->decl, &r, now, 31), 3);
	assert_int_equal(pw_range_active(f->h, f->decl, &r, now, 1), 1);
	/* A TCP range of the same numbers has nothing declared. */
	r.proto = PW_PROTO_TCP;
	assert_int_equal(pw_range_active(f->h, f->decl, &r, now, 30), 0);
}

static void test_peaks_stay_and_age_out_when_full(void **state)
{
	struct fixture *f = *state;
	struct pw_range r = range("turn", PW_PROTO_UDP, 49152, 49161);
	struct pw_range q;
	const struct pw_hist_peak *p;
	unsigned i;

	pw_hist_peak_update(f->h, &r, 3, 10 * S, 30);
	pw_hist_peak_update(f->h, &r, 7, 20 * S, 30);
	pw_hist_peak_update(f->h, &r, 2, 30 * S, 30);
	p = pw_hist_peak_find(f->h, &r);
	assert_non_null(p);
	assert_int_equal(p->active, 7);
	assert_int_equal(p->at_ns, 20 * S);
	assert_int_equal(p->seen_ns, 30 * S);
	/* Fill the table; the range looked at longest ago makes room. */
	for (i = 1; i < PW_HIST_PEAKS; i++) {
		q = range("x", PW_PROTO_UDP, 1000 + i, 1000 + i);
		pw_hist_peak_update(f->h, &q, 1, (100 + i) * S, 30);
	}
	assert_non_null(pw_hist_peak_find(f->h, &r));
	q = range("y", PW_PROTO_UDP, 5000, 5100);
	pw_hist_peak_update(f->h, &q, 9, 999 * S, 30);
	assert_null(pw_hist_peak_find(f->h, &r));
	assert_int_equal(pw_hist_peak_find(f->h, &q)->active, 9);
	q = range("x", PW_PROTO_UDP, 1001, 1001);
	assert_non_null(pw_hist_peak_find(f->h, &q));
}

static void test_the_watch_records_peaks_and_show_only_reads(void **state)
{
	struct fixture *f = *state;
	struct pw_range_result res[1];
	struct pw_report rep = { .ranges = res, .n = 1 };
	uint64_t seq;

	memset(res, 0, sizeof(res));
	res[0].range = range("livekit", PW_PROTO_UDP, 50000, 50003);
	declare(f, 50000, 50003);
	/* Never folded: nothing known. */
	pw_report_activity(&rep, f->h, f->decl, true);
	assert_false(rep.activity);
	f->h->folded_ns = 500 * S;
	f->h->window_s = 30;
	active_at(f, 50000, 500 * S);
	active_at(f, 50001, 490 * S);
	seq = f->h->seq;
	pw_report_activity(&rep, f->h, f->decl, true);
	assert_int_equal(f->h->seq, seq + 2);	/* written under the seqlock */
	assert_true(rep.activity);
	assert_int_equal(rep.window_s, 30);
	assert_int_equal(res[0].ports_active, 2);
	assert_int_equal(res[0].ports_active_peak, 2);
	assert_int_equal(res[0].peak_real_ns, 500 * S);
	/* Later, fewer active: the peak stays; show reads without writing. */
	f->h->folded_ns = 600 * S;
	active_at(f, 50002, 600 * S);
	seq = f->h->seq;
	pw_report_activity(&rep, f->h, f->decl, false);
	assert_int_equal(f->h->seq, seq);
	assert_int_equal(res[0].ports_active, 1);
	assert_int_equal(res[0].ports_active_peak, 2);
	/* More than the recorded peak before the watch records it: shown. */
	active_at(f, 50003, 600 * S);
	active_at(f, 50000, 600 * S);
	pw_report_activity(&rep, f->h, f->decl, false);
	assert_int_equal(res[0].ports_active_peak, 3);
	assert_int_equal(pw_hist_peak_find(f->h, &res[0].range)->active, 2);
}

/* The fold marks a port active when either count grew. */
static void test_the_fold_marks_ports_in_use(void **state)
{
	struct fixture *f = *state;
	struct pw_snapshot snap;
	uint32_t slot = PW_PORTS_PER_PROTO + 40000;

	assert_int_equal(pw_snapshot_alloc(&snap), 0);
	f->decl->index1[slot] = 1;
	f->decl->index1[slot + 1] = 2;
	snap.slots[slot].declared = snap.slots[slot + 1].declared = true;
	snap.slots[slot].replies = 3;		/* replies only: in use */
	snap.real_ns = 42 * S;
	pw_hist_apply(f->h, f->decl, &snap);
	pw_hist_fold(f->h, f->decl, &snap);
	assert_int_equal(f->h->port[0].active_ns, 42 * S);
	assert_int_equal(f->h->port[1].active_ns, 0);
	snap.real_ns = 43 * S;			/* nothing new */
	snap.slots[slot].replies = 3;
	pw_hist_apply(f->h, f->decl, &snap);
	pw_hist_fold(f->h, f->decl, &snap);
	assert_int_equal(f->h->port[0].active_ns, 42 * S);
	pw_snapshot_free(&snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_peak_means_calls_or_participants_and_headroom),
		cmocka_unit_test_setup_teardown(test_active_is_the_ports_that_grew_within_the_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peaks_stay_and_age_out_when_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_watch_records_peaks_and_show_only_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_fold_marks_ports_in_use, setup, teardown),
	};

	return cmocka_run_group_tests_name("headroom", tests, NULL, NULL);
}
