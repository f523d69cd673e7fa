"""Chrome / Perfetto trace export: open the file in ui.perfetto.dev or chrome://tracing.

Tracks (Chrome trace "processes" and "threads"):
- one process per TP group (``replica R / stage S: GPUs a-b``, whose GPUs run in lock-step) with
  a ``compute`` and a ``comm`` thread: every op of every step, so all-reduce gaps show as holes
  in the compute track. At fidelity ``step`` the ops come from the analytic fold and carry
  ``args.synthetic = true``;
- one process ``links`` with a thread per link that carried a transfer: pipeline hops
  (``transfer``), and every collective on each link of its group's ring, named like its op
  (``L0.attn.allreduce``): at fidelity ``layer`` from the same start and end that time it (the
  stream arithmetic for links no other group shares, the held links otherwise), at ``step`` from
  the fold (``synthetic``), at ``op`` as the ring's individual ``transfer`` spans where rings
  are expanded. Pipeline bubbles and link contention show here;
- one process ``requests`` with a thread per request: ``queued``, ``prefill`` and ``decode``.

The trace keeps at most ``max_events`` spans on the GPU streams and ``max_link_events`` on the
links (request spans always fit), then records that it was truncated, so a long run cannot
produce a file of gigabytes. The links have a budget of their own: a tp-way collective is drawn
on tp links, and would otherwise crowd out the stream spans.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_MAX_EVENTS = 200_000
DEFAULT_MAX_LINK_EVENTS = 100_000
_US = 1e6  # trace timestamps are microseconds


class Tracer:
    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS, max_link_events: int | None = None):
        self.max_events = max_events
        self.max_link_events = DEFAULT_MAX_LINK_EVENTS if max_link_events is None else max_link_events
        self.events: list[dict[str, Any]] = []
        self.dropped = 0
        self._link_spans = 0
        self._pids: dict[str, int] = {}
        self._tids: dict[tuple[int, str], int] = {}

    def _track(self, process: str, thread: str) -> tuple[int, int]:
        pid = self._pids.get(process)
        if pid is None:
            pid = self._pids[process] = len(self._pids) + 1
            self.events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": process}})
            self.events.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0,
                                "args": {"sort_index": pid}})
        key = (pid, thread)
        tid = self._tids.get(key)
        if tid is None:
            tid = self._tids[key] = len(self._tids) + 1
            self.events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": thread}})
        return pid, tid

    def span(self, process: str, thread: str, name: str, start_s: float, end_s: float,
             args: dict[str, Any] | None = None, *, always: bool = False) -> None:
        """One complete ("X") event; spans beyond the caps are counted, not kept."""
        if not always:
            if process == "links":
                if self._link_spans >= self.max_link_events:
                    self.dropped += 1
                    return
                self._link_spans += 1
            elif len(self.events) - self._link_spans >= self.max_events:
                self.dropped += 1
                return
        pid, tid = self._track(process, thread)
        event = {"ph": "X", "name": name, "pid": pid, "tid": tid, "ts": start_s * _US,
                 "dur": max(0.0, end_s - start_s) * _US}
        if args:
            event["args"] = args
        self.events.append(event)

    def add_requests(self, records) -> None:
        for r in records:
            thread = f"request {r.id}"
            self.span("requests", thread, "queued", r.arrival_s, r.scheduled_s, always=True)
            self.span("requests", thread, "prefill", r.scheduled_s, r.first_token_s,
                      {"prompt_tokens": r.prompt_tokens}, always=True)
            self.span("requests", thread, "decode", r.first_token_s, r.finished_s,
                      {"output_tokens": r.output_tokens}, always=True)

    def to_json(self, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        meta = dict(metadata or {})
        meta["dropped_spans"] = self.dropped
        return {"traceEvents": self.events, "displayTimeUnit": "ms", "metadata": meta}

    def write(self, path: str | Path, metadata: dict[str, Any] | None = None) -> None:
        Path(path).write_text(json.dumps(self.to_json(metadata)), encoding="utf-8")


def group_name(replica: int, stage: int, gpus: range) -> str:
    return f"replica {replica} / stage {stage}: GPUs {gpus[0]}-{gpus[-1]}"
