# check_layers.cmake - the layer graph, enforced (run by CTest as `layers`).
#
# Each folder under src/ is a layer. A layer's files may include the headers
# of the layers listed for it here, its own, and the public folio.h; nothing
# else of src/. The command-line tool is a client of the public API only.
# The same edges are written down in docs/ARCHITECTURE.md.
#
#   cmake -DSRC=<source dir> -P cmake/check_layers.cmake

set(allowed_base "")
set(allowed_os base)
set(allowed_format base)
set(allowed_schema base os format)
set(allowed_wal base os format)
set(allowed_pager base os format wal)
set(allowed_btree base os format pager)
set(allowed_expr base os format schema)
set(allowed_db base os format pager btree schema expr)

set(layers base os format schema expr wal pager btree db)
set(problems "")

foreach(layer ${layers})
  file(GLOB files ${SRC}/src/${layer}/*.c ${SRC}/src/${layer}/*.h)
  foreach(f ${files})
    file(STRINGS ${f} incs REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${incs})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
      if(inc STREQUAL "folio.h")
        continue()
      endif()
      if(NOT inc MATCHES "^([a-z_]+)/")
        list(APPEND problems "${f}: #include \"${inc}\" does not name its layer")
        continue()
      endif()
      string(REGEX REPLACE "/.*" "" target "${inc}")
      if(target STREQUAL layer)
        continue()
      endif()
      list(FIND allowed_${layer} ${target} found)
      if(found EQUAL -1)
        list(APPEND problems "${f}: layer ${layer} may not include ${inc}")
      endif()
    endforeach()
  endforeach()
endforeach()

# Every folder under src/ is a known layer.
file(GLOB dirs LIST_DIRECTORIES true ${SRC}/src/*)
foreach(d ${dirs})
  if(IS_DIRECTORY ${d})
    get_filename_component(name ${d} NAME)
    list(FIND layers ${name} found)
    if(found EQUAL -1)
      list(APPEND problems "src/${name}: a folder that is not a layer of check_layers.cmake")
    endif()
  endif()
endforeach()

# The CLI and the demo: the public header and their own headers only.
file(GLOB clients ${SRC}/cli/*.c ${SRC}/cli/*.h ${SRC}/tools/*.c)
foreach(f ${clients})
  file(STRINGS ${f} incs REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${incs})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
    if(inc MATCHES "/")
      list(APPEND problems "${f}: a client of the public API may not include ${inc}")
    endif()
  endforeach()
endforeach()

if(problems)
  list(JOIN problems "\n" text)
  message(FATAL_ERROR "layer graph violated:\n${text}")
endif()
message(STATUS "layer graph: ok")
