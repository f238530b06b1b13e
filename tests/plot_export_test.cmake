cmake_minimum_required(VERSION 3.25)
# `admitsim plot`: a stored run becomes non-empty pictures, drawn by the
# gnuplot scripts of plots/ built into the binary; output directories named
# like shell or gnuplot code work and run nothing; bad input and a missing or
# failing gnuplot give clear messages and exit 1.
function(expect msg)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "plot_test: ${msg}")
  endif()
endfunction()

file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(db ${OUT}/plots.db)
# (run 1 keeps every event, so that the exports below can be counted
# against them; run 2 the notable ones, the default)
execute_process(COMMAND ${ADMITSIM} run ${SRC}/scenarios/cross_provider_cooldown.json
                --policy strict --db ${db} --store-events all RESULT_VARIABLE rc OUTPUT_QUIET
                ERROR_VARIABLE err)
expect("run --db exits 0 (${err})" ${rc} EQUAL 0)

execute_process(COMMAND ${ADMITSIM} run ${SRC}/scenarios/heavy_root.json --policy strict
                --db ${db} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("second run --db exits 0 (${err})" ${rc} EQUAL 0)

# Real pictures, one per picture the run has.
function(expect_pngs dir)
  foreach(pic IN LISTS ARGN)
    expect("${dir}/${pic}.png was drawn" EXISTS ${dir}/${pic}.png)
    file(SIZE ${dir}/${pic}.png size)
    expect("${pic}.png is a real picture (${size} bytes)" ${size} GREATER 10000)
    file(READ ${dir}/${pic}.png magic LIMIT 4 HEX)
    expect("${pic}.png is a PNG" "${magic}" STREQUAL "89504e47")
  endforeach()
endfunction()
set(pictures timeline request-provider-a_gen-a-large_chat request-provider-b_gen-b-large_chat cdf
  layers)

# Run from a directory without the source tree: the scripts are built in.
execute_process(COMMAND ${ADMITSIM} plot 1 --db ${db} --out ${OUT}/png WORKING_DIRECTORY ${OUT}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("plot exits 0 (${err})" ${rc} EQUAL 0)
expect_pngs(${OUT}/png ${pictures})
file(READ ${OUT}/png/gnuplot.log log)
string(LENGTH "${log}" n)
expect("gnuplot ran without warnings (${log})" ${n} EQUAL 0)
file(READ ${OUT}/png/plot.gp script)
string(FIND "${script}" "cross_provider_cooldown - policy strict - seed 1" at)
expect("titles name scenario, arm and seed" ${at} GREATER -1)
string(FIND "${script}" "virtual time (s)" at)
expect("axes carry units" ${at} GREATER -1)
foreach(gp common timeline request cdf layers)
  file(READ ${SRC}/plots/${gp}.gp text)
  string(FIND "${script}" "${text}" at)
  expect("plot.gp holds plots/${gp}.gp as it is" ${at} GREATER -1)
endforeach()
string(REGEX MATCHALL "\n(set|plot) [^\n]*provider-a" generated "${script}")
list(LENGTH generated n)
expect("plot.gp has no generated commands (${generated})" ${n} EQUAL 0)
file(READ ${OUT}/png/params.gp params)
string(REGEX REPLACE "^(#[^\n]*\n)+" "" variables "${params}") # less its header
string(FIND "${script}" "${variables}" at)
expect("plot.gp starts with the variables of params.gp" ${at} GREATER -1)
foreach(line "request_resources = 'provider-a/gen-a-large/chat provider-b/gen-b-large/chat'"
        "timeline_groups = 'answer_a answer_b'" "layers_groups = 'answer_a answer_b'"
        "fmt = 'png'")
  string(FIND "${params}" "${line}\n" at)
  expect("params.gp has ${line}" ${at} GREATER -1)
endforeach()

# plot.gp alone draws the pictures again; so does one script run by hand.
file(REMOVE ${OUT}/png/timeline.png ${OUT}/png/request-provider-b_gen-b-large_chat.png
  ${OUT}/png/cdf.png)
execute_process(COMMAND gnuplot ${OUT}/png/plot.gp RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("gnuplot plot.gp exits 0 (${err})" ${rc} EQUAL 0)
expect_pngs(${OUT}/png ${pictures})
file(REMOVE ${OUT}/png/cdf.png)
execute_process(COMMAND gnuplot ${OUT}/png/params.gp ${SRC}/plots/common.gp ${SRC}/plots/cdf.gp
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("gnuplot params.gp common.gp cdf.gp exits 0 (${err})" ${rc} EQUAL 0)
expect_pngs(${OUT}/png cdf)

# A run without request resources: no request pictures, the rest drawn.
execute_process(COMMAND ${ADMITSIM} plot 2 --db ${db} --out ${OUT}/norequests
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("plot of a run without model calls exits 0 (${err})" ${rc} EQUAL 0)
expect_pngs(${OUT}/norequests timeline cdf layers)
file(GLOB requests ${OUT}/norequests/request-*.png)
expect("no request picture without request resources (${requests})" "x${requests}" STREQUAL "x")

execute_process(COMMAND ${ADMITSIM} plot 1 --db ${db} --out ${OUT}/svg --format svg
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("plot --format svg exits 0 (${err})" ${rc} EQUAL 0)
foreach(pic IN LISTS pictures)
  file(READ ${OUT}/svg/${pic}.svg head LIMIT 200)
  string(FIND "${head}" "<svg" at)
  expect("${pic}.svg is SVG" ${at} GREATER -1)
endforeach()

execute_process(COMMAND ${ADMITSIM} plot 99 --db ${db} --out ${OUT}/none RESULT_VARIABLE rc
                ERROR_VARIABLE err)
expect("unknown run exits 1" ${rc} EQUAL 1)
string(FIND "${err}" "no run 99" at)
expect("unknown run is named (${err})" ${at} GREATER -1)
execute_process(COMMAND ${ADMITSIM} plot 1 --db ${OUT}/missing.db RESULT_VARIABLE rc
                ERROR_VARIABLE err)
expect("missing database exits 1 (${err})" ${rc} EQUAL 1)
execute_process(COMMAND ${ADMITSIM} plot 1 --format gif RESULT_VARIABLE rc ERROR_QUIET)
expect("bad --format exits 2" ${rc} EQUAL 2)

# A run cancelled before its first task lease still gets its pictures (the
# timeline has axes and no series).
file(WRITE ${OUT}/cancel0.json "{\"schema\": 1, \"scenario_id\": \"cancel0\", \"scenario_version\": 1,
 \"records\": 30, \"capacity\": {\"submission\": 4}, \"cancel_at_seconds\": 0.0,
 \"columns\": [{\"name\": \"root\", \"duration\": {\"dist\": \"constant\", \"seconds\": 0.1}}]}")
execute_process(COMMAND ${ADMITSIM} run ${OUT}/cancel0.json --db ${OUT}/cancel0.db
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("run of a scenario cancelled at 0 exits 0 (${err})" ${rc} EQUAL 0)
execute_process(COMMAND ${ADMITSIM} plot 1 --db ${OUT}/cancel0.db --out ${OUT}/cancel0
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("plot of a run cancelled at 0 exits 0 (${err})" ${rc} EQUAL 0)

# cancel_midrun stored with its notable events only (the default): the
# lifecycle events of the tasks still queued at the cancel cannot be
# rebuilt (they never got a worker), so a plot or chrome trace says how
# many and stops, unless told to draw what there is.
execute_process(COMMAND ${ADMITSIM} run ${SRC}/scenarios/cancel_midrun.json --db ${OUT}/midrun.db
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("run cancel_midrun exits 0 (${err})" ${rc} EQUAL 0)
execute_process(COMMAND ${ADMITSIM} plot 1 --db ${OUT}/midrun.db --out ${OUT}/midrun
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("plot of a run missing lifecycle events exits 1 (${err})" ${rc} EQUAL 1)
expect("it says how many and what to do (${err})" "${err}" MATCHES
       "[0-9]+ of its lifecycle events .* cannot be rebuilt.*--allow-incomplete")
execute_process(COMMAND ${ADMITSIM} export 1 --db ${OUT}/midrun.db --format chrome-trace
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("chrome-trace of it exits 1 too (${err})" ${rc} EQUAL 1)
execute_process(COMMAND ${ADMITSIM} plot 1 --db ${OUT}/midrun.db --out ${OUT}/midrun
                --allow-incomplete RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("plot --allow-incomplete exits 0 (${err})" ${rc} EQUAL 0)
expect("with a warning (${err})" "${err}" MATCHES "warning: .* cannot be rebuilt")
execute_process(COMMAND ${ADMITSIM} run ${SRC}/scenarios/cancel_midrun.json --db ${OUT}/midall.db
                --store-events all RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
execute_process(COMMAND ${ADMITSIM} export 1 --db ${OUT}/midall.db --format chrome-trace
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("stored with every event, its chrome trace exits 0 (${err})" ${rc} EQUAL 0)
expect_pngs(${OUT}/cancel0 timeline)

# Output directories whose names a shell or gnuplot would read as code: an
# apostrophe, a shell command between quotes, a gnuplot `command`, gnuplot's
# pipe prefixes, '$', '"' and a newline. Each gets its pictures and nothing
# runs (no file named pwned appears anywhere).
file(MAKE_DIRECTORY ${OUT}/names)
set(name_1 "it's here")
set(name_2 "x';touch pwned;'") # one name: a CMake list would split it at ';'
set(name_3 "x`touch pwned`")
set(name_4 "|touch pwned #")
set(name_5 "<touch pwned")
set(name_6 "$HOME\"q")
set(name_7 "nl\nx")
foreach(i RANGE 1 7)
  set(name "${name_${i}}")
  execute_process(COMMAND ${ADMITSIM} plot 1 --db ${db} --out "${name}"
                  WORKING_DIRECTORY ${OUT}/names RESULT_VARIABLE rc ERROR_VARIABLE err)
  expect("plot --out '${name}' exits 0 (${err})" ${rc} EQUAL 0)
  string(REGEX MATCH "^[A-Za-z0-9/._]" plain "${name}")
  if(plain)
    set(dir "${OUT}/names/${name}")
  else()
    set(dir "${OUT}/names/./${name}")
  endif()
  foreach(pic IN LISTS pictures) # quoted throughout: the names hold ';'
    if(NOT EXISTS "${dir}/${pic}.png")
      message(FATAL_ERROR "plot_test: no ${pic}.png in '${dir}'")
    endif()
    file(SIZE "${dir}/${pic}.png" size)
    expect("${pic}.png is a real picture (${size} bytes)" ${size} GREATER 10000)
  endforeach()
endforeach()
file(GLOB_RECURSE everything LIST_DIRECTORIES true ${OUT}/*)
foreach(path IN LISTS everything)
  get_filename_component(base "${path}" NAME)
  expect("no file named pwned (${path})" NOT "${base}" STREQUAL "pwned")
endforeach()

# gnuplot failing: its exit status or signal is said, and so are its
# messages (the failed plot writes nothing into --out, its log included).
file(MAKE_DIRECTORY ${OUT}/fakebin)
foreach(fake "echo 'boom: no such font' >&2\nexit 3" "echo 'about to die' >&2\nkill -9 $$")
  file(WRITE ${OUT}/fakebin/gnuplot "#!/bin/sh\n${fake}\n")
  file(CHMOD ${OUT}/fakebin/gnuplot PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PATH=${OUT}/fakebin ${ADMITSIM} plot 1 --db ${db}
                  --out ${OUT}/fake RESULT_VARIABLE rc ERROR_VARIABLE err)
  expect("failing gnuplot exits 1 (${err})" ${rc} EQUAL 1)
  if(fake MATCHES "exit 3")
    string(FIND "${err}" "gnuplot exited with status 3; it said:\nboom: no such font" at)
  else()
    string(FIND "${err}" "gnuplot was killed by signal 9" at)
    string(FIND "${err}" "about to die" said)
    expect("gnuplot's messages said (${err})" ${said} GREATER -1)
  endif()
  expect("exit status or signal and messages said (${err})" ${at} GREATER -1)
  file(GLOB left LIST_DIRECTORIES true ${OUT}/fake/* ${OUT}/fake/.*)
  list(LENGTH left n)
  expect("nothing written into --out (${left})" ${n} EQUAL 0)
endforeach()

# Without gnuplot on PATH: a clear message, not a crash.
execute_process(COMMAND ${CMAKE_COMMAND} -E env PATH=/nonexistent ${ADMITSIM} plot 1 --db ${db}
                --out ${OUT}/nognuplot RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("missing gnuplot exits 1" ${rc} EQUAL 1)
string(FIND "${err}" "gnuplot is not installed" at)
expect("missing gnuplot is explained (${err})" ${at} GREATER -1)

# `admitsim export`: json, csv and the chrome trace of the same stored run.
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format json --out ${OUT}/run.json
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("export json exits 0 (${err})" ${rc} EQUAL 0)
file(READ ${OUT}/run.json doc)
string(JSON scenario GET "${doc}" run scenario_id)
expect("export json names the scenario" "${scenario}" STREQUAL "cross_provider_cooldown")
string(JSON nevents LENGTH "${doc}" events)
string(JSON stored GET "${doc}" iterations 0 event_count)
expect("export json has every event (${nevents} vs ${stored})" ${nevents} EQUAL ${stored})
# A run stored by default exports the events it stored: the notable ones.
execute_process(COMMAND ${ADMITSIM} export 2 --db ${db} --format json RESULT_VARIABLE rc
                OUTPUT_VARIABLE doc2 ERROR_VARIABLE err)
expect("export json of run 2 exits 0 (${err})" ${rc} EQUAL 0)
string(JSON n2 LENGTH "${doc2}" events)
string(JSON made2 GET "${doc2}" iterations 0 event_count)
string(JSON kept2 GET "${doc2}" iterations 0 events_stored)
expect("export json has the events stored (${n2} of ${made2}, ${kept2} stored)"
       ${n2} EQUAL ${kept2} AND ${n2} LESS ${made2})

execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format csv OUTPUT_VARIABLE csv
                RESULT_VARIABLE rc)
expect("export csv exits 0" ${rc} EQUAL 0)
string(REGEX MATCHALL "\n" lines "${csv}")
list(LENGTH lines nlines)
math(EXPR rows "${nlines} - 1")
expect("export csv has one row per event (${rows})" ${rows} EQUAL ${nevents})

execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format chrome-trace
                --out ${OUT}/trace.json RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("export chrome-trace exits 0 (${err})" ${rc} EQUAL 0)
file(READ ${OUT}/trace.json trace)
string(JSON n LENGTH "${trace}" traceEvents)
expect("trace has events" ${n} GREATER 100)
string(REGEX MATCHALL "\"ph\":\"X\",\"pid\":1," slot_hits "${trace}")
string(REGEX MATCHALL "\"ph\":\"X\",\"pid\":3," provider_hits "${trace}")
list(LENGTH slot_hits slot_spans)
list(LENGTH provider_hits provider_spans)
string(REGEX MATCHALL "\"kind\": \"task_lease_acquired\"" acquired "${doc}")
list(LENGTH acquired leases)
expect("one slot span per task lease (${slot_spans} vs ${leases})" ${slot_spans} EQUAL ${leases})
expect("trace has request/provider spans" ${provider_spans} GREATER 0)
# An iteration with no span at all (the run cancelled before its first
# lease) is an empty trace; its spans were sorted from a NULL array
# (undefined, caught by UBSan in the sanitizer build; found by
# tests/fuzz/fuzz_store).
execute_process(COMMAND ${ADMITSIM} export 1 --db ${OUT}/cancel0.db --format chrome-trace
                OUTPUT_VARIABLE empty RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("export chrome-trace of an iteration without spans exits 0 (${rc}: ${err})" "${rc}"
       STREQUAL "0")
# An iteration the run did not store is an error, not an empty trace.
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format chrome-trace --iteration 7
                OUTPUT_VARIABLE none RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("export chrome-trace of an absent iteration exits 1 (${rc}: ${err})" "${rc}" STREQUAL "1")
expect("and prints nothing (${none})" "x${none}" STREQUAL "x")
string(JSON n ERROR_VARIABLE jerr LENGTH "${empty}" traceEvents)
expect("and writes a trace without spans (${empty})" "${jerr}" STREQUAL "NOTFOUND")
string(FIND "${empty}" "\"ph\":\"X\"" at)
expect("a trace without spans (${empty})" ${at} EQUAL -1)
# Text stored as it was given need not be UTF-8 (a scenario file name in
# Latin-1), and a track name cut to its buffer may end inside a character:
# both exports carry such bytes as U+FFFD and stay valid JSON.  (export json
# printed `"run": ` and an empty error; chrome-trace wrote `"name":,` with
# exit 0.  Found by fuzzing the store readers.)
file(COPY_FILE ${db} ${OUT}/text.db)
execute_process(COMMAND sqlite3 ${OUT}/text.db
  "UPDATE runs SET scenario_file = CAST(x'6361ff2e6a736f6e' AS TEXT);
   UPDATE event_rows SET resource = replace(hex(zeroblob(88)), '0', 'r') || CAST(x'c3a9' AS TEXT)
     || '/m/chat' WHERE stream = 'request' AND resource IS NOT NULL;" RESULT_VARIABLE rc)
expect("sqlite3 stores text that is not UTF-8" ${rc} EQUAL 0)
string(ASCII 239 191 189 replacement) # U+FFFD in UTF-8
foreach(fmt json chrome-trace)
  execute_process(COMMAND ${ADMITSIM} export 1 --db ${OUT}/text.db --format ${fmt}
                  OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE err)
  expect("export ${fmt} of text that is not UTF-8 exits 0 (${rc}: ${err})" "${rc}" STREQUAL "0")
  string(JSON kind ERROR_VARIABLE jerr TYPE "${text}")
  expect("export ${fmt} of text that is not UTF-8 is JSON (${jerr})" "${kind}" STREQUAL "OBJECT")
endforeach()
execute_process(COMMAND ${ADMITSIM} export 1 --db ${OUT}/text.db OUTPUT_VARIABLE text)
string(JSON file GET "${text}" run scenario_file)
expect("the file name's stray byte is U+FFFD (${file})" "${file}" STREQUAL "ca${replacement}.json")
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format xml RESULT_VARIABLE rc
                ERROR_QUIET)
expect("bad export format exits 2" ${rc} EQUAL 2)
execute_process(COMMAND ${ADMITSIM} export 42 --db ${db} RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("unknown run exits 1" ${rc} EQUAL 1)

# export --out: a directory is said (it failed with exit 1 and no word); a path
# whose "PATH.tmp" did not fit 1,200 bytes was written to a cut name, another
# file that was then renamed away; a file neither half-written nor left behind.
file(MAKE_DIRECTORY ${OUT}/outdir/inside)
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --out ${OUT}/outdir RESULT_VARIABLE rc
                ERROR_VARIABLE err)
string(FIND "${err}" "is a directory" at)
expect("export --out DIRECTORY exits 1 saying so (${rc}: ${err})" "${rc}" STREQUAL "1" AND
       ${at} GREATER -1)
set(long ${OUT}/long)
string(REPEAT "d" 200 part)
foreach(i RANGE 5)
  set(long ${long}/${part})
endforeach()
file(MAKE_DIRECTORY ${long})
set(long_out ${long}/${part}.json)
string(LENGTH "${long_out}.tmp" n)
expect("the long path is longer than 1,200 bytes (${n})" ${n} GREATER 1200)
string(SUBSTRING "${long_out}.tmp" 0 1199 cut_name)
file(WRITE ${cut_name} "someone else's file\n")
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format csv --out ${long_out}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("export --out of a long path exits 0 (${rc}: ${err})" "${rc}" STREQUAL "0")
expect("export --out of a long path writes it" EXISTS ${long_out})
expect("export --out of a long path leaves another file alone" EXISTS ${cut_name})
file(GLOB left ${long}/*.json.tmp* ${OUT}/outdir*.tmp*)
list(LENGTH left nleft)
expect("export --out leaves no temporary file (${left})" ${nleft} EQUAL 0)

# export csv of an iteration stored with its notable events only (run 2, the
# default) holds those alone: it says so, with how many (it said nothing).
execute_process(COMMAND ${ADMITSIM} export 2 --db ${db} --format csv OUTPUT_VARIABLE csv2
                RESULT_VARIABLE rc ERROR_VARIABLE err)
string(FIND "${err}" "was stored with its notable events only: the csv holds those ${kept2} of its ${made2} events" at)
expect("export csv of a default run exits 0 and says what it lacks (${rc}: ${err})"
       "${rc}" STREQUAL "0" AND ${at} GREATER -1)
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format csv OUTPUT_QUIET
                RESULT_VARIABLE rc ERROR_VARIABLE err)
string(LENGTH "${err}" nerr)
expect("export csv of a run stored with every event says nothing (${err})" ${nerr} EQUAL 0)

# A column named with a carriage return: the csv of export and of run --out
# quote it (a bare CR was written as it is, and ended the record there).
file(READ ${SRC}/scenarios/heavy_root.json scenario)
string(REPLACE "\"root_slow\"" "\"a\\rb\"" scenario "${scenario}")
file(WRITE ${OUT}/cr.json "${scenario}")
execute_process(COMMAND ${ADMITSIM} run ${OUT}/cr.json --db ${OUT}/cr.db --store-events all
                --out ${OUT}/cr RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("run of a column named with a CR exits 0 (${err})" "${rc}" STREQUAL "0")
execute_process(COMMAND ${ADMITSIM} export 1 --db ${OUT}/cr.db --format csv
                OUTPUT_FILE ${OUT}/cr.csv RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("export csv of a column named with a CR exits 0 (${err})" "${rc}" STREQUAL "0")
file(GLOB cr_csvs ${OUT}/cr.csv ${OUT}/cr/*.csv)
foreach(f IN LISTS cr_csvs)
  file(READ ${f} text)
  string(REGEX REPLACE "\"[^\",]*\r[^\",]*\"" "" quoted "${text}")
  string(FIND "${quoted}" "\r" bare)
  string(FIND "${text}" "\r" at)
  expect("${f}: the CR is inside a quoted field only" ${at} GREATER -1 AND ${bare} EQUAL -1)
endforeach()
list(LENGTH cr_csvs n)
expect("three csv files of the CR column (${cr_csvs})" ${n} EQUAL 3)

# plot --out longer than the command's 1,023 bytes: refused, nothing drawn (the
# name was cut, and the pictures went to that other directory with exit 0).
set(long_plot ${OUT}/longplot)
foreach(i RANGE 4)
  set(long_plot ${long_plot}/${part})
endforeach()
set(long_plot ${long_plot}/pictures_here)
execute_process(COMMAND ${ADMITSIM} plot 1 --db ${db} --out ${long_plot} --quiet
                RESULT_VARIABLE rc ERROR_VARIABLE err)
string(FIND "${err}" "--out longer than" at)
expect("plot --out of a path too long exits 1 saying so (${rc}: ${err})" "${rc}" STREQUAL "1"
       AND ${at} GREATER -1)
file(GLOB_RECURSE drawn ${OUT}/longplot/*)
list(LENGTH drawn ndrawn)
expect("plot --out of a path too long draws nothing anywhere (${ndrawn} files)" ${ndrawn} EQUAL 0)
