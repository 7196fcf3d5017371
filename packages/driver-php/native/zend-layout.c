/*
 * Compiled with -g against the headers of a PHP build (php-config --includes)
 * when that PHP has no DWARF of its own: its debuginfo then describes the
 * engine's structures exactly as this build lays them out. Nothing here runs.
 */
#include "php.h"
#include "zend_compile.h"
#include "zend_globals.h"

zend_executor_globals *stackdb_executor_globals;
zend_execute_data *stackdb_execute_data;
zend_function *stackdb_function;
zend_op *stackdb_op;
zend_class_entry *stackdb_class_entry;
zend_string *stackdb_string;
zend_array *stackdb_array;
Bucket *stackdb_bucket;
zend_object *stackdb_object;
zend_reference *stackdb_reference;
zend_resource *stackdb_resource;
zval *stackdb_zval;
zend_arg_info *stackdb_arg_info;
zend_internal_arg_info *stackdb_internal_arg_info;
