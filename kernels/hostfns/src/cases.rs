// The cases of the `hostfns` kernel, in the order it runs them. Shared by the
// kernel (the `Case` enum indexes its results) and by the `check` tests
// (`CASES` must name exactly the keys of `hostfns/expected.json`).

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// One recorded host-function call.
        #[allow(non_camel_case_types, dead_code)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Case {
            $($name),*
        }

        /// Every case name, in `Case` order.
        #[allow(dead_code)]
        pub const CASES: &[&str] = &[$(stringify!($name)),*];
    };
}

cases! {
    // read_input
    read_input_info_oob,
    read_input_dst_oob,
    read_input_dst_at_memory_end,
    read_input_sol,
    read_input_sol_id,
    read_input_truncated,
    read_input_zero_max,
    read_input_empty,
    // write_output
    write_output_ok,
    write_output_4096,
    write_output_4097,
    write_output_src_oob,
    write_output_fill_to_100,
    write_output_101st,
    // write_debug
    write_debug_ok,
    write_debug_oob,
    // key syntax and limits (through store_has unless named otherwise)
    key_241_bytes,
    key_241_bytes_oob_ptr,
    key_240_bytes_write,
    key_double_slash,
    key_no_leading_slash,
    key_trailing_slash,
    key_slash_only,
    key_bad_char,
    key_ptr_oob,
    key_root_write,
    // store_write
    store_write_ok,
    store_write_2048,
    store_write_2049,
    store_write_append,
    store_write_offset_past_end,
    store_write_readonly,
    store_write_src_oob,
    store_write_negative_len,
    // store_read
    store_read_ok,
    store_read_partial,
    store_read_tail,
    store_read_offset_eq_len,
    store_read_offset_past_len,
    store_read_2049,
    store_read_2049_missing,
    store_read_missing,
    store_read_dst_oob,
    store_read_wasm_version,
    wasm_version_is_r6,
    // store_value_size
    store_value_size_ok,
    store_value_size_big,
    store_value_size_missing,
    store_value_size_subtree_only,
    // store_has
    store_has_none,
    store_has_value,
    store_has_subtree,
    store_has_both,
    // store_exists
    store_exists_value,
    store_exists_subtree,
    store_exists_missing,
    store_exists_readonly,
    store_exists_invalid_key,
    // store_list_size
    store_list_size_both,
    store_list_size_parent,
    store_list_size_missing,
    store_list_size_invalid_key,
    // store_get_nth_key
    store_get_nth_key_value_only,
    store_get_nth_key_single_child,
    store_get_nth_key_name_is_x,
    store_get_nth_key_truncated,
    store_get_nth_key_past_end,
    store_get_nth_key_missing,
    store_get_nth_key_dst_oob,
    // store_create
    store_create_new,
    store_create_new_size,
    store_create_existing,
    store_create_readonly,
    store_create_negative_size,
    store_create_zero,
    store_read_empty_value,
    store_create_on_subtree,
    // store_delete, store_delete_value
    store_delete_value_both,
    store_has_after_delete_value,
    store_delete_subtree,
    store_has_after_delete,
    store_delete_missing,
    store_delete_readonly,
    store_delete_invalid_key,
    store_delete_value_missing,
    store_delete_value_readonly,
    // store_copy, store_move
    store_copy_ok,
    store_copy_dst_value_size,
    store_copy_missing_src,
    store_copy_to_readonly,
    store_copy_from_readonly,
    store_copy_from_readonly_size,
    store_copy_overwrite,
    store_has_after_copy_overwrite,
    store_move_ok,
    store_exists_after_move_src,
    store_exists_after_move_dst,
    store_move_missing_src,
    store_move_from_readonly,
    store_move_to_readonly,
    // __internal_store_get_hash
    store_get_hash_ok,
    store_get_hash_truncated,
    store_get_hash_value_only,
    store_get_hash_missing,
    store_get_hash_dst_oob,
    // reveal_metadata
    reveal_metadata_ok,
    reveal_metadata_short,
    reveal_metadata_dst_oob,
    // reveal_preimage
    reveal_preimage_empty,
    reveal_preimage_hash_oob,
    reveal_preimage_hash_4097,
    // reveal (raw request)
    reveal_raw_metadata,
    reveal_raw_preimage_empty,
    reveal_raw_undecodable,
    reveal_raw_payload_oob,
}
