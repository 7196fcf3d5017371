/**
 * DWARF 2-5 constants (DWARF 5 standard, section 7, plus the GNU extensions gcc
 * and dwz emit). Only the values this reader needs by name are listed; the
 * rest are read as numbers.
 */

/** Unit types (DW_UT_*, DWARF 5 section 7.5.1). */
export const DW_UT = {
  compile: 0x01, type: 0x02, partial: 0x03, skeleton: 0x04, split_compile: 0x05, split_type: 0x06,
} as const;

/** DIE tags (DW_TAG_*). */
export const DW_TAG = {
  array_type: 0x01, class_type: 0x02, entry_point: 0x03, enumeration_type: 0x04, formal_parameter: 0x05,
  imported_declaration: 0x08, label: 0x0a, lexical_block: 0x0b, member: 0x0d, pointer_type: 0x0f,
  reference_type: 0x10, compile_unit: 0x11, string_type: 0x12, structure_type: 0x13, subroutine_type: 0x15,
  typedef: 0x16, union_type: 0x17, unspecified_parameters: 0x18, variant: 0x19, common_block: 0x1a,
  common_inclusion: 0x1b, inheritance: 0x1c, inlined_subroutine: 0x1d, module: 0x1e, ptr_to_member_type: 0x1f,
  set_type: 0x20, subrange_type: 0x21, with_stmt: 0x22, access_declaration: 0x23, base_type: 0x24,
  catch_block: 0x25, const_type: 0x26, constant: 0x27, enumerator: 0x28, file_type: 0x29, friend: 0x2a,
  namelist: 0x2b, namelist_item: 0x2c, packed_type: 0x2d, subprogram: 0x2e, template_type_parameter: 0x2f,
  template_value_parameter: 0x30, thrown_type: 0x31, try_block: 0x32, variant_part: 0x33, variable: 0x34,
  volatile_type: 0x35, dwarf_procedure: 0x36, restrict_type: 0x37, interface_type: 0x38, namespace: 0x39,
  imported_module: 0x3a, unspecified_type: 0x3b, partial_unit: 0x3c, imported_unit: 0x3d, condition: 0x3f,
  shared_type: 0x40, type_unit: 0x41, rvalue_reference_type: 0x42, template_alias: 0x43, coarray_type: 0x44,
  generic_subrange: 0x45, dynamic_type: 0x46, atomic_type: 0x47, call_site: 0x48, call_site_parameter: 0x49,
  skeleton_unit: 0x4a, immutable_type: 0x4b,
  GNU_template_parameter_pack: 0x4107, GNU_formal_parameter_pack: 0x4108, GNU_call_site: 0x4109,
  GNU_call_site_parameter: 0x410a,
} as const;

/** Attributes (DW_AT_*). */
export const DW_AT = {
  sibling: 0x01, location: 0x02, name: 0x03, ordering: 0x09, byte_size: 0x0b, bit_offset: 0x0c, bit_size: 0x0d,
  stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, language: 0x13, discr_value: 0x16, visibility: 0x17, import: 0x18,
  string_length: 0x19, common_reference: 0x1a, comp_dir: 0x1b, const_value: 0x1c, containing_type: 0x1d,
  default_value: 0x1e, inline: 0x20, is_optional: 0x21, lower_bound: 0x22, producer: 0x25, prototyped: 0x27,
  return_addr: 0x2a, start_scope: 0x2c, bit_stride: 0x2e, upper_bound: 0x2f, abstract_origin: 0x31,
  accessibility: 0x32, address_class: 0x33, artificial: 0x34, base_types: 0x35, calling_convention: 0x36,
  count: 0x37, data_member_location: 0x38, decl_column: 0x39, decl_file: 0x3a, decl_line: 0x3b,
  declaration: 0x3c, discr_list: 0x3d, encoding: 0x3e, external: 0x3f, frame_base: 0x40, friend: 0x41,
  identifier_case: 0x42, macro_info: 0x43, namelist_item: 0x44, priority: 0x45, segment: 0x46,
  specification: 0x47, static_link: 0x48, type: 0x49, use_location: 0x4a, variable_parameter: 0x4b,
  virtuality: 0x4c, vtable_elem_location: 0x4d, allocated: 0x4e, associated: 0x4f, data_location: 0x50,
  byte_stride: 0x51, entry_pc: 0x52, use_UTF8: 0x53, extension: 0x54, ranges: 0x55, trampoline: 0x56,
  call_column: 0x57, call_file: 0x58, call_line: 0x59, description: 0x5a, binary_scale: 0x5b,
  decimal_scale: 0x5c, small: 0x5d, decimal_sign: 0x5e, digit_count: 0x5f, picture_string: 0x60,
  mutable: 0x61, threads_scaled: 0x62, explicit: 0x63, object_pointer: 0x64, endianity: 0x65, elemental: 0x66,
  pure: 0x67, recursive: 0x68, signature: 0x69, main_subprogram: 0x6a, data_bit_offset: 0x6b,
  const_expr: 0x6c, enum_class: 0x6d, linkage_name: 0x6e, string_length_bit_size: 0x6f,
  string_length_byte_size: 0x70, rank: 0x71, str_offsets_base: 0x72, addr_base: 0x73, rnglists_base: 0x74,
  dwo_name: 0x76, reference: 0x77, rvalue_reference: 0x78, macros: 0x79, call_all_calls: 0x7a,
  call_all_source_calls: 0x7b, call_all_tail_calls: 0x7c, call_return_pc: 0x7d, call_value: 0x7e,
  call_origin: 0x7f, call_parameter: 0x80, call_pc: 0x81, call_tail_call: 0x82, call_target: 0x83,
  call_target_clobbered: 0x84, call_data_location: 0x85, call_data_value: 0x86, noreturn: 0x87,
  alignment: 0x88, export_symbols: 0x89, deleted: 0x8a, defaulted: 0x8b, loclists_base: 0x8c,
  MIPS_linkage_name: 0x2007,
  GNU_vector: 0x2107, GNU_template_name: 0x2110, GNU_call_site_value: 0x2111, GNU_call_site_data_value: 0x2112,
  GNU_call_site_target: 0x2113, GNU_call_site_target_clobbered: 0x2114, GNU_tail_call: 0x2115,
  GNU_all_tail_call_sites: 0x2116, GNU_all_call_sites: 0x2117, GNU_all_source_call_sites: 0x2118,
  GNU_macros: 0x2119, GNU_deleted: 0x211a, GNU_dwo_name: 0x2130, GNU_dwo_id: 0x2131, GNU_ranges_base: 0x2132,
  GNU_addr_base: 0x2133, GNU_pubnames: 0x2134, GNU_pubtypes: 0x2135, GNU_discriminator: 0x2136,
  GNU_locviews: 0x2137, GNU_entry_view: 0x2138,
} as const;

/** Attribute forms (DW_FORM_*). */
export const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09,
  block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11,
  ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18,
  flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25,
  strx2: 0x26, strx3: 0x27, strx4: 0x28, addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
  GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

/** Base type encodings (DW_ATE_*). */
export const DW_ATE = {
  address: 0x1, boolean: 0x2, complex_float: 0x3, float: 0x4, signed: 0x5, signed_char: 0x6, unsigned: 0x7,
  unsigned_char: 0x8, imaginary_float: 0x9, packed_decimal: 0xa, numeric_string: 0xb, edited: 0xc,
  signed_fixed: 0xd, unsigned_fixed: 0xe, decimal_float: 0xf, UTF: 0x10, UCS: 0x11, ASCII: 0x12,
} as const;

/** DW_AT_inline values. */
export const DW_INL = { not_inlined: 0, inlined: 1, declared_not_inlined: 2, declared_inlined: 3 } as const;

/** Line number standard opcodes (DW_LNS_*). */
export const DW_LNS = {
  copy: 1, advance_pc: 2, advance_line: 3, set_file: 4, set_column: 5, negate_stmt: 6, set_basic_block: 7,
  const_add_pc: 8, fixed_advance_pc: 9, set_prologue_end: 10, set_epilogue_begin: 11, set_isa: 12,
} as const;

/** Line number extended opcodes (DW_LNE_*). */
export const DW_LNE = {
  end_sequence: 1, set_address: 2, define_file: 3, set_discriminator: 4,
} as const;

/** Line number header entry content types (DW_LNCT_*). */
export const DW_LNCT = {
  path: 1, directory_index: 2, timestamp: 3, size: 4, MD5: 5, LLVM_source: 0x2001,
} as const;

/** Range list entry kinds (DW_RLE_*). */
export const DW_RLE = {
  end_of_list: 0, base_addressx: 1, startx_endx: 2, startx_length: 3, offset_pair: 4, base_address: 5,
  start_end: 6, start_length: 7,
} as const;

/** Location list entry kinds (DW_LLE_*), and the GNU split-DWARF kinds gcc emits in DWARF 4 `.debug_loc.dwo`. */
export const DW_LLE = {
  end_of_list: 0, base_addressx: 1, startx_endx: 2, startx_length: 3, offset_pair: 4, default_location: 5,
  base_address: 6, start_end: 7, start_length: 8,
} as const;

/** GNU split-DWARF (pre-DWARF 5) location list entry kinds. */
export const DW_LLE_GNU = {
  end_of_list_entry: 0, base_address_selection_entry: 1, start_end_entry: 2, start_length_entry: 3,
  /** LLVM/GNU extension: like DWARF 5 offset_pair. */
  view_pair: 9,
} as const;

/** Languages (DW_LANG_*), for display. */
export const DW_LANG_NAMES: Readonly<Record<number, string>> = {
  0x01: 'C89', 0x02: 'C', 0x03: 'Ada83', 0x04: 'C++', 0x05: 'Cobol74', 0x06: 'Cobol85', 0x07: 'Fortran77',
  0x08: 'Fortran90', 0x09: 'Pascal83', 0x0a: 'Modula2', 0x0b: 'Java', 0x0c: 'C99', 0x0d: 'Ada95',
  0x0e: 'Fortran95', 0x0f: 'PLI', 0x10: 'ObjC', 0x11: 'ObjC++', 0x12: 'UPC', 0x13: 'D', 0x14: 'Python',
  0x15: 'OpenCL', 0x16: 'Go', 0x17: 'Modula3', 0x18: 'Haskell', 0x19: 'C++03', 0x1a: 'C++11', 0x1b: 'OCaml',
  0x1c: 'Rust', 0x1d: 'C11', 0x1e: 'Swift', 0x1f: 'Julia', 0x20: 'Dylan', 0x21: 'C++14', 0x22: 'Fortran03',
  0x23: 'Fortran08', 0x24: 'RenderScript', 0x25: 'BLISS', 0x26: 'Kotlin', 0x27: 'Zig', 0x28: 'Crystal',
  0x2a: 'C++17', 0x2b: 'C++20', 0x2c: 'C17', 0x8001: 'Mips_Assembler',
};

/** True for the C++ family of DW_LANG values (names in these units are qualified with `::`). */
export function isCxxLanguage(lang: number | undefined): boolean {
  return lang === 0x04 || lang === 0x19 || lang === 0x1a || lang === 0x21 || lang === 0x2a || lang === 0x2b;
}

function invert(o: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(o)) if (!m.has(v)) m.set(v, k);
  return m;
}
const tagNames = invert(DW_TAG);
const atNames = invert(DW_AT);
const formNames = invert(DW_FORM);

/** `DW_TAG_structure_type` style name of a tag, or its hex value. */
export function tagName(tag: number): string {
  const n = tagNames.get(tag);
  return n ? `DW_TAG_${n}` : `DW_TAG_0x${tag.toString(16)}`;
}
/** `DW_AT_name` style name of an attribute, or its hex value. */
export function attrName(at: number): string {
  const n = atNames.get(at);
  return n ? `DW_AT_${n}` : `DW_AT_0x${at.toString(16)}`;
}
/** `DW_FORM_strp` style name of a form, or its hex value. */
export function formName(form: number): string {
  const n = formNames.get(form);
  return n ? `DW_FORM_${n}` : `DW_FORM_0x${form.toString(16)}`;
}
