;; Exports kernel_run but not its memory: memory 0 must be exported, so the
;; PVM is stuck at initialisation.
(module
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "hidden memory")
  (func (export "kernel_run")
    (call $write_debug (i32.const 0) (i32.const 13))))
