/* SPDX-License-Identifier: GPL-2.0 */
/*
 * woof_trace.h - tracepoints of woof.ko (trace system "woof"), for perf,
 * ftrace and BPF tools:
 *   woof:woof_append         an element committed (its number, the WOOF's
 *                            namespace and name, the trigger it carries)
 *   woof:woof_trigger        a trigger recorded in a namespace's log
 *   woof:woof_trigger_claim  a trigger's element claimed (or why not)
 * e.g. perf trace -e 'woof:*', or
 *      echo 1 > /sys/kernel/tracing/events/woof/enable
 * Disabled tracepoints cost a patched-out branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM woof

#if !defined(_WOOF_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _WOOF_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(woof_append,
	TP_PROTO(const char *ns, const char *woof, u64 seq, u64 element_size, u64 trigger),
	TP_ARGS(ns, woof, seq, element_size, trigger),
	TP_STRUCT__entry(
		__string(ns, ns)
		__string(woof, woof)
		__field(u64, seq)
		__field(u64, element_size)
		__field(u64, trigger)
	),
	TP_fast_assign(
		__assign_str(ns, ns);
		__assign_str(woof, woof);
		__entry->seq = seq;
		__entry->element_size = element_size;
		__entry->trigger = trigger;
	),
	TP_printk("ns=%s woof=%s seq=%llu size=%llu trigger=%llu", __get_str(ns),
		  __get_str(woof), __entry->seq, __entry->element_size, __entry->trigger)
);

TRACE_EVENT(woof_trigger,
	TP_PROTO(const char *ns, u64 trigger, const char *woof, u64 woof_seq, const char *handler),
	TP_ARGS(ns, trigger, woof, woof_seq, handler),
	TP_STRUCT__entry(
		__string(ns, ns)
		__field(u64, trigger)
		__string(woof, woof)
		__field(u64, woof_seq)
		__string(handler, handler)
	),
	TP_fast_assign(
		__assign_str(ns, ns);
		__entry->trigger = trigger;
		__assign_str(woof, woof);
		__entry->woof_seq = woof_seq;
		__assign_str(handler, handler);
	),
	TP_printk("ns=%s trigger=%llu woof=%s seq=%llu handler=%s", __get_str(ns),
		  __entry->trigger, __get_str(woof), __entry->woof_seq, __get_str(handler))
);

TRACE_EVENT(woof_trigger_claim,
	TP_PROTO(const char *ns, u64 trigger, u64 woof_seq, int result, bool already),
	TP_ARGS(ns, trigger, woof_seq, result, already),
	TP_STRUCT__entry(
		__string(ns, ns)
		__field(u64, trigger)
		__field(u64, woof_seq)
		__field(int, result)
		__field(bool, already)
	),
	TP_fast_assign(
		__assign_str(ns, ns);
		__entry->trigger = trigger;
		__entry->woof_seq = woof_seq;
		__entry->result = result;
		__entry->already = already;
	),
	TP_printk("ns=%s trigger=%llu seq=%llu result=%d already=%d", __get_str(ns),
		  __entry->trigger, __entry->woof_seq, __entry->result, __entry->already)
);

#endif /* _WOOF_TRACE_H */

/* this part must be outside the include guard */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE woof_trace
#include <trace/define_trace.h>
