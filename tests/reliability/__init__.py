"""The bad-input suite: faults thrown at the package as a careful user would, each rejected or recovered from
with a message naming where it happened. Extend it with one module per area; list every new case here.

test_run_entries.py — run entries and helm-run
    - NaN, inf and -inf for every float argument of every `hp_*` run spec (e.g. `hp_audio_asr:snr_db=nan`):
      rejected when the entry is read, naming the entry and argument (one shared validator).
    - Two input files of the same base name in different folders (`a/texts.jsonl`, `b/texts.jsonl`) for
      hp_text_loss, hp_provenance (transcript and reference), hp_fairness and hp_uq: two run names (base name plus a
      short content hash); the same file gives the same name again.
    - The same through helm-run: both runs written, and `--skip-completed-runs` skips only the completed one
      (slow: two helm-runs on the embedded model).
    - A missing input file: rejected when the entry is read.
    - hp_provenance with a reference model that has no run in the suite, or a malformed reference loss file:
      fails when the run starts, before a scenario is loaded or an example scored.
    - `--skip-completed-runs` with a truncated stats.json, per_instance_stats.json or scenario_state.json: the file
      is named in the log and the run done again (a complete run is still skipped).

test_input_files.py — JSONL and models files
    - fairness-frontier `--models` with NaN, Infinity, 1e999 (overflow), a string, a list, a boolean or a
      non-positive size: rejected naming file, line and field (NaN rows were dropped silently before).
    - fairness-frontier with models of only one size: an error naming the file (was an IndexError).
    - relative-scaling `--models` with "abc", a list, a string number, a missing subgroup, a bad per-item error, or a
      NaN nested in an object: rejected naming file, line and field.
    - A binary file given as JSONL (a models file, a SpecEval specification): "not UTF-8 text" with file and line
      (was a codec traceback).
    - Every JSONL reader (transcripts, loss files, fairness items, UQ questions, entropy-calibration documents)
      rejects NaN and infinities the same way.
    - Real-valued command-line options (`fairness-frontier --delta nan`): rejected by argparse, option named.

test_audio_cache.py — synthesized audio
    - A cached WAV cut short, zeroed or garbled, or without its stored hash: made again, never served.
    - An intact cached WAV is reused untouched.

test_checkpoints.py — local checkpoints behind LocalCheckpointClient
    - A truncated or garbled model.safetensors, a NaN weight, a tensor of the wrong shape, a missing weight, or a
      config.json that disagrees: CheckpointError naming the file when the client is created.
    - Through HELM's AutoClient: the error is raised at once, not turned into retried failed requests.

test_runners.py — pretraining runner and runner configs
    - A second run on an output folder another process holds: fails at once naming that process (pid, host,
      command); the lock is released when training ends or set-up fails.
    - A truncated, garbage or empty checkpoint.pt: an error naming the path and `--fresh`.
    - A malformed `--config` YAML (bad indentation, unclosed bracket, tab, not a mapping): file, line, column and
      the parser's problem, exit code 2 with no traceback; `.nan`/`.inf` in a config or a `--set` override rejected.

test_summarize_inputs.py — helm-plugins summarize
    - A truncated stats.json, run_spec.json, scenario_state.json or per_instance_stats.json: exit code 2 with an
      error naming the file and the run to redo (HELM's summarizer named neither).

test_dspy_programs.py — structured prompting's optimised programs
    - An optimisation whose every LM call failed: recorded as sp_optimisation_failure, nothing saved; a working
      endpoint afterwards optimises afresh.
    - A program saved from an optimisation without a single reply (as an older version did): refused, not reused.
"""
