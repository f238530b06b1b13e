cmake_minimum_required(VERSION 3.25)
# The results store from the command line: the read commands (runs, show,
# export, plot) never write (another program's database is refused and left
# as it was, by `run --db` too; a database in a read-only directory is read),
# `migrate` upgrades version 4, 5, 6 and 7 databases, a SIGKILLed writer's
# run reads abandoned, and runs of an experiment show it (runs, show,
# experiments).  (Concurrent writers: store_concurrent_writers.py.)
function(expect msg)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "store_cli_test: ${msg}")
  endif()
endfunction()

file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(scenario ${SRC}/scenarios/heavy_root.json)

# Another program's database: tables, no schema version, rollback journal.
set(foreign ${OUT}/foreign.db)
execute_process(COMMAND sqlite3 ${foreign} "CREATE TABLE notes (x); INSERT INTO notes VALUES (1);"
                RESULT_VARIABLE rc)
expect("sqlite3 makes a database" ${rc} EQUAL 0)
file(MD5 ${foreign} before)
foreach(cmd "runs" "show;1" "export;1" "plot;1;--out;${OUT}/foreign-plot" "experiments"
        "run;${scenario}")
  execute_process(COMMAND ${ADMITSIM} ${cmd} --db ${foreign} RESULT_VARIABLE rc OUTPUT_QUIET
                  ERROR_VARIABLE err)
  expect("${cmd} on another program's database exits 1 (${rc})" ${rc} EQUAL 1)
  string(FIND "${err}" "not an admitsim results database" at)
  expect("${cmd} says whose database it is (${err})" ${at} GREATER -1)
endforeach()
file(MD5 ${foreign} after)
expect("another program's database is unchanged" "${before}" STREQUAL "${after}")
expect("and still has no WAL file" NOT EXISTS ${foreign}-wal)
execute_process(COMMAND sqlite3 ${foreign} "PRAGMA journal_mode; SELECT count(*) FROM sqlite_master;"
                OUTPUT_VARIABLE out)
expect("journal mode and tables as they were (${out})" "${out}" STREQUAL "delete\n1\n")

# A stored run in a directory the reader cannot write: read, never changed.
# As root the readers run as nobody, who must reach the database and the
# binary: both go to a scratch directory under /tmp that everyone may enter
# (the build tree may sit below a private directory, as under mktemp -d).
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
if(uid EQUAL 0)
  string(RANDOM LENGTH 12 tag)
  set(ro_base /tmp/admitsim-store-cli-${tag})
  file(MAKE_DIRECTORY ${ro_base})
  file(CHMOD ${ro_base} DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
       GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  file(COPY_FILE ${ADMITSIM} ${ro_base}/admitsim)
  file(CHMOD ${ro_base}/admitsim PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
       GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(ro_bin ${ro_base}/admitsim)
  file(COPY_FILE ${scenario} ${ro_base}/heavy_root.json)
  file(CHMOD ${ro_base}/heavy_root.json PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  set(ro_scenario ${ro_base}/heavy_root.json)
else()
  set(ro_base ${OUT})
  set(ro_bin ${ADMITSIM})
  set(ro_scenario ${scenario})
endif()
set(ro ${ro_base}/ro)
file(MAKE_DIRECTORY ${ro})
execute_process(COMMAND ${ADMITSIM} run ${scenario} --db ${ro}/r.db RESULT_VARIABLE rc
                OUTPUT_QUIET ERROR_VARIABLE err)
expect("run --db exits 0 (${err})" ${rc} EQUAL 0)
expect("the writer closed its WAL" NOT EXISTS ${ro}/r.db-wal)
file(MD5 ${ro}/r.db before)
if(uid EQUAL 0) # root writes anywhere: read as nobody
  set(as setpriv --reuid=nobody --regid=nogroup --clear-groups)
  file(CHMOD ${ro} DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
       GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  file(CHMOD ${ro}/r.db PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  file(MAKE_DIRECTORY ${ro_base}/ro-plot)
  file(CHMOD ${ro_base}/ro-plot DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
       GROUP_WRITE GROUP_EXECUTE WORLD_READ WORLD_WRITE WORLD_EXECUTE)
else()
  set(as "")
  file(CHMOD ${ro} DIRECTORY_PERMISSIONS OWNER_READ OWNER_EXECUTE)
endif()
foreach(cmd "runs" "show;1" "export;1;--format;csv" "plot;1;--out;${ro_base}/ro-plot/p" "experiments")
  execute_process(COMMAND ${as} ${ro_bin} ${cmd} --db ${ro}/r.db RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  expect("${cmd} in a read-only directory exits 0 (${err})" ${rc} EQUAL 0)
endforeach()
execute_process(COMMAND ${as} ${ro_bin} run ${ro_scenario} --db ${ro}/r.db RESULT_VARIABLE rc
                OUTPUT_QUIET ERROR_VARIABLE err)
expect("run --db in a read-only directory exits 1" ${rc} EQUAL 1)
string(FIND "${err}" "read-only" at)
expect("and says why (${err})" ${at} GREATER -1)
file(CHMOD ${ro} DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
file(MD5 ${ro}/r.db after)
expect("the read-only database is unchanged" "${before}" STREQUAL "${after}")
if(uid EQUAL 0)
  file(REMOVE_RECURSE ${ro_base})
endif()

# A database of the previous schema (version 4, written by that admitsim):
# read as it is, unchanged; `migrate` takes it to the current version.
file(COPY_FILE ${SRC}/tests/data/store-v4.db ${OUT}/v4.db)
file(MD5 ${OUT}/v4.db before)
execute_process(COMMAND ${ADMITSIM} runs --db ${OUT}/v4.db RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
expect("runs reads a version 4 database (${err})" ${rc} EQUAL 0)
expect("its runs, the interrupted one as running (${out})"
       "${out}" MATCHES "\n +1  [^\n]+ 2/2  complete [^\n]+\n +2  [^\n]+ 2/3  running ")
file(MD5 ${OUT}/v4.db after)
expect("reading left the version 4 database unchanged" "${before}" STREQUAL "${after}")
execute_process(COMMAND sqlite3 ${OUT}/v4.db
                "SELECT count(*), sum(lifecycle), sum(event_id) FROM events"
                OUTPUT_VARIABLE v4_events)
execute_process(COMMAND ${ADMITSIM} migrate --db ${OUT}/v4.db RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect("migrate exits 0 (${err})" ${rc} EQUAL 0)
string(FIND "${out}" "schema version 4 -> 9" at)
expect("migrate says from which version to which (${out})" ${at} GREATER -1)
execute_process(COMMAND sqlite3 ${OUT}/v4.db "PRAGMA user_version" OUTPUT_VARIABLE out)
expect("the database is at version 9 (${out})" "${out}" STREQUAL "9\n")
# Version 9 keeps the events stored before as rows (the lifecycle ones
# too, event_id kept); the events view reads them, and nothing is packed.
execute_process(COMMAND sqlite3 ${OUT}/v4.db
                "SELECT count(*), sum(lifecycle), sum(event_id) FROM event_rows;
                 SELECT count(*), sum(lifecycle), sum(event_id) FROM events;
                 SELECT count(*) FROM event_packs"
                OUTPUT_VARIABLE out)
expect("the version 4 events are event_rows and read through events (${v4_events} vs ${out})"
       "${v4_events}" MATCHES "^[1-9][0-9]*[|]" AND "${out}" STREQUAL "${v4_events}${v4_events}0\n")

# Version 5 (written by that admitsim; its run 2's writer was killed): read
# as it is, with no experiments; `migrate` takes it to version 9 and stores
# the killed run as abandoned.
file(COPY_FILE ${SRC}/tests/data/store-v5.db ${OUT}/v5.db)
file(MD5 ${OUT}/v5.db before)
execute_process(COMMAND ${ADMITSIM} runs --db ${OUT}/v5.db RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
expect("runs reads a version 5 database (${err})" ${rc} EQUAL 0)
expect("its runs, the killed one abandoned (${out})"
       "${out}" MATCHES "\n +1  [^\n]+ 2/2  complete [^\n]+\n +2  [^\n]+ 2/3  abandoned ")
execute_process(COMMAND ${ADMITSIM} experiments --db ${OUT}/v5.db RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect("experiments reads a version 5 database: none (${rc} ${out}${err})"
       ${rc} EQUAL 0 AND "${out}" MATCHES "^ +id +created +kind +scenario +arms +seeds +runs  status\n$")
file(MD5 ${OUT}/v5.db after)
expect("reading left the version 5 database unchanged" "${before}" STREQUAL "${after}")
execute_process(COMMAND ${ADMITSIM} migrate --db ${OUT}/v5.db RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}" "schema version 5 -> 9" at)
expect("migrate takes version 5 to 9 (${rc} ${out}${err})" ${rc} EQUAL 0 AND ${at} GREATER -1)
execute_process(COMMAND sqlite3 ${OUT}/v5.db
                "PRAGMA user_version; SELECT group_concat(status) FROM runs"
                OUTPUT_VARIABLE out)
expect("at version 9, the killed run stored abandoned (${out})"
       "${out}" STREQUAL "9\ncomplete,abandoned\n")

# Version 6 (an A/B experiment of four runs and a plain run): read as it
# is; `migrate` takes it to version 9 keeping the experiment and its runs.
file(COPY_FILE ${SRC}/tests/data/store-v6.db ${OUT}/v6.db)
execute_process(COMMAND ${ADMITSIM} experiments --db ${OUT}/v6.db RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect("experiments reads a version 6 database (${rc} ${out}${err})"
       ${rc} EQUAL 0 AND "${out}" MATCHES "\n +1  [^\n]+ ab +tiny_v6 +baseline vs candidate +2 +4  complete\n")
execute_process(COMMAND ${ADMITSIM} migrate --db ${OUT}/v6.db RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}" "schema version 6 -> 9" at)
expect("migrate takes version 6 to 9 (${rc} ${out}${err})" ${rc} EQUAL 0 AND ${at} GREATER -1)
execute_process(COMMAND ${ADMITSIM} experiments 1 --db ${OUT}/v6.db RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
# (the writer line holds a ';': the output is searched, never passed on)
string(REGEX MATCH "\n +2 +baseline +1 [^\n]*\n +4 +baseline +2 [^\n]*\n +3 +candidate +1 "
       kept "${out}")
if(NOT rc EQUAL 0 OR kept STREQUAL "")
  message(FATAL_ERROR "store_cli_test: at version 9 the experiment keeps its runs (${rc} ${err})")
endif()

# A writer killed (SIGKILL, by the timeout) mid-run: its finished iterations
# stay, `runs` and `show` call the run abandoned at once, and the next
# writer records it so.
execute_process(COMMAND ${ADMITSIM} run ${SRC}/scenarios/aimd_recovery.json --iterations 4096
                --db ${OUT}/killed.db OUTPUT_QUIET ERROR_QUIET TIMEOUT 4 RESULT_VARIABLE rc)
expect("the writer was killed (${rc})" "${rc}" MATCHES "timeout")
execute_process(COMMAND ${ADMITSIM} runs --db ${OUT}/killed.db OUTPUT_VARIABLE out)
expect("runs says abandoned (${out})" "${out}" MATCHES "\n +1  [^\n]+ [1-9][0-9]*/4096  abandoned ")
execute_process(COMMAND ${ADMITSIM} show 1 --db ${OUT}/killed.db OUTPUT_VARIABLE out)
string(FIND "${out}" "status            abandoned (stored as running; its writer is gone)" at)
expect("show says abandoned and why (${out})" ${at} GREATER -1)
string(REGEX MATCH "writer            pid [0-9]+ on [^,]+, gone; last wrote [0-9T:Z-]+" writer
       "${out}")
if(writer STREQUAL "") # the line holds a ';': not through expect()
  message(FATAL_ERROR "store_cli_test: show names the writer (${out})")
endif()
execute_process(COMMAND ${ADMITSIM} run ${scenario} --db ${OUT}/killed.db RESULT_VARIABLE rc
                OUTPUT_QUIET ERROR_QUIET)
expect("the next run exits 0" ${rc} EQUAL 0)
execute_process(COMMAND sqlite3 ${OUT}/killed.db "SELECT group_concat(status) FROM runs"
                OUTPUT_VARIABLE out)
expect("the next writer stored it as abandoned (${out})" "${out}" STREQUAL "abandoned,complete\n")

# Experiments.  Run 2 is made a run of an A/B experiment by hand here (the
# commands that run experiments store them through the same writer): runs
# and show name its experiment and arm, run 1's line stays as it was, and
# experiments lists the experiment and, given its id, its runs.
set(exp ${OUT}/experiments.db)
execute_process(COMMAND ${ADMITSIM} run ${scenario} --db ${exp} RESULT_VARIABLE rc
                OUTPUT_QUIET ERROR_QUIET)
expect("run 1 stored" ${rc} EQUAL 0)
execute_process(COMMAND ${ADMITSIM} runs --db ${exp} OUTPUT_VARIABLE plain)
execute_process(COMMAND ${ADMITSIM} run ${scenario} --db ${exp} --policy bounded --seed 3
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
expect("run 2 stored" ${rc} EQUAL 0)
execute_process(COMMAND sqlite3 ${exp}
  "INSERT INTO experiments (kind, scenario_id, scenario_file, name, baseline_arm, candidate_arm,
     seeds, harness_version, command_line, created_at, finished_at, status, result_json)
   VALUES ('ab', 'heavy_root', 'heavy_root.json', 'strict vs bounded', 'strict', 'bounded', 3,
     'test', 'admitsim ab', '2024-05-01T12:00:00Z', '2024-05-01T12:01:00Z', 'complete',
     '{\"verdict\":\"no_difference\"}');
   UPDATE runs SET experiment_id = 1, arm = 'bounded', parameters = '{\"policy\":\"bounded\"}'
   WHERE run_id = 2;" RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("the experiment is stored (${err})" ${rc} EQUAL 0)
execute_process(COMMAND ${ADMITSIM} runs --db ${exp} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
string(REGEX MATCH "\n +1  [^\n]*\n" line1 "${out}")
string(REGEX MATCH "\n +1  [^\n]*\n" plain1 "${plain}")
expect("runs: a plain run's line is unchanged (${line1} vs ${plain1})"
       ${rc} EQUAL 0 AND "${line1}" STREQUAL "${plain1}")
expect("runs: run 2 names its experiment and arm (${out})"
       "${out}" MATCHES "\n +2  [^\n]+ bounded [^\n]+ complete [^\n]+  experiment 1  arm bounded\n")
# (show's writer line holds a ';': its output is searched, never passed on)
execute_process(COMMAND ${ADMITSIM} show 2 --db ${exp} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
string(FIND "${out}" "\n  experiment        1\n  arm               bounded\n  parameters        {\"policy\":\"bounded\"}\n" at)
expect("show: the experiment, arm and parameters" ${rc} EQUAL 0 AND ${at} GREATER -1)
execute_process(COMMAND ${ADMITSIM} show 1 --db ${exp} OUTPUT_VARIABLE out)
string(FIND "${out}" "\n  experiment " at)
expect("show: a plain run has no experiment line" ${at} EQUAL -1)
execute_process(COMMAND ${ADMITSIM} experiments --db ${exp} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
expect("experiments lists it (${out})" ${rc} EQUAL 0 AND "${out}" MATCHES
       "\n +1  2024-05-01T12:00:00Z  ab     heavy_root +strict vs bounded +3 +1  complete\n$")
execute_process(COMMAND ${ADMITSIM} experiments 1 --db ${exp} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
string(FIND "${out}" "\n  result            {\"verdict\":\"no_difference\"}\n" at)
string(REGEX MATCH "\n +2  bounded +3 +1/1  complete   {\"policy\":\"bounded\"}\n$" runline "${out}")
string(LENGTH "${runline}" n)
expect("experiments 1: its result and its run" ${rc} EQUAL 0 AND ${at} GREATER -1 AND ${n} GREATER 0)
execute_process(COMMAND ${ADMITSIM} experiments 9 --db ${exp} RESULT_VARIABLE rc ERROR_VARIABLE err)
string(FIND "${err}" "no experiment 9" at)
expect("experiments 9: no such experiment exits 1 (${err})" ${rc} EQUAL 1 AND ${at} GREATER -1)
execute_process(COMMAND ${ADMITSIM} experiments 1 2 --db ${exp} RESULT_VARIABLE rc ERROR_QUIET)
expect("experiments with two ids is a usage error" ${rc} EQUAL 2)
