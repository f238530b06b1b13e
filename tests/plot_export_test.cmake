cmake_minimum_required(VERSION 3.25)
# `admitsim plot`: a stored run becomes non-empty pictures; bad input and a
# missing gnuplot give clear messages and exit 1.
function(expect msg)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "plot_test: ${msg}")
  endif()
endfunction()

file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(db ${OUT}/plots.db)
execute_process(COMMAND ${ADMITSIM} run ${SRC}/scenarios/cross_provider_cooldown.json
                --policy strict --db ${db} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
expect("run --db exits 0 (${err})" ${rc} EQUAL 0)

execute_process(COMMAND ${ADMITSIM} plot 1 --db ${db} --out ${OUT}/png RESULT_VARIABLE rc
                ERROR_VARIABLE err)
expect("plot exits 0 (${err})" ${rc} EQUAL 0)
foreach(pic timeline.png request-0.png request-1.png cdf.png)
  file(SIZE ${OUT}/png/${pic} size)
  expect("${pic} is a real picture (${size} bytes)" ${size} GREATER 10000)
  file(READ ${OUT}/png/${pic} magic LIMIT 4 HEX)
  expect("${pic} is a PNG" "${magic}" STREQUAL "89504e47")
endforeach()
file(READ ${OUT}/png/plot.gp script)
string(FIND "${script}" "cross_provider_cooldown - policy strict - seed 1" at)
expect("titles name scenario, arm and seed" ${at} GREATER -1)
string(FIND "${script}" "virtual time (s)" at)
expect("axes carry units" ${at} GREATER -1)

execute_process(COMMAND ${ADMITSIM} plot 1 --db ${db} --out ${OUT}/svg --format svg
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("plot --format svg exits 0 (${err})" ${rc} EQUAL 0)
file(READ ${OUT}/svg/timeline.svg head LIMIT 200)
string(FIND "${head}" "<svg" at)
expect("timeline.svg is SVG" ${at} GREATER -1)

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
execute_process(COMMAND ${ADMITSIM} export 1 --db ${db} --format xml RESULT_VARIABLE rc
                ERROR_QUIET)
expect("bad export format exits 2" ${rc} EQUAL 2)
execute_process(COMMAND ${ADMITSIM} export 42 --db ${db} RESULT_VARIABLE rc ERROR_VARIABLE err)
expect("unknown run exits 1" ${rc} EQUAL 1)
