;; edgenn WebAssembly SIMD kernels: the hot loops of runtime/ops/dense.ts, relu.ts, leaky-relu.ts,
;; runtime/optim/sgd.ts and adam.ts, plus an int8 dense for the quantized path, written by hand in
;; f32x4 / i32x4 over the arena, which lives inside the imported memory. Not here: shape checks,
;; planning, anything that allocates (the module has no allocator and never grows its memory).
;;
;; Assembled at build time by tools/wasm/build-kernels.ts into runtime/wasm/kernels-binary.ts.
;;
;; Conventions (so the executor can call these or the JS kernels with the same numbers):
;;   - every buffer argument is an ELEMENT index into the arena view (Float32Array / Int32Array
;;     index for f32 / i32 buffers, Int8Array index = byte for i8 buffers), converted to a byte
;;     address here (index << 2); the arena's views all start at byte 0 of the memory
;;   - argument order = the JS kernel's, minus the leading Float32Array
;;   - dimensions: B batch, I in features, O out features, n element count
;;   - "-1" for an absent buffer (no bias, no dx, ...) as in the JS kernels
;;   - unaligned v128 loads are fine: rows of I floats start anywhere
;; Inside a function, locals named like the parameters hold BYTE addresses after the prologue.
;;
;; NOTE: wasm calls are not inlined by V8 (Node 18/20), so hot loops are written out by hand and
;; helpers are only called once per output tile, never per element.
(module
  (import "env" "memory" (memory 1))

  ;; ---------------------------------------------------------------- helpers (once per tile)

  ;; [sum(a), sum(b), sum(c), sum(d)]
  (func $hsum4 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $t0 v128) (local $t1 v128)
    ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3], t1 likewise for c, d
    (local.set $t0 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $t1 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))

  (func $hsum4_i32 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $t0 v128) (local $t1 v128)
    (local.set $t0 (i32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $t1 (i32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d))))
    (i32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))

  ;; (a0 + a2) + (a1 + a3)
  (func $hsum1 (param $a v128) (result f32)
    (local $t v128)
    (local.set $t (f32x4.add (local.get $a)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a))))
    (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t))))

  ;; epilogue activation. act: 0 none, 1 relu, 2 leaky relu (slope).
  ;; NOTE: relu keeps NaN and maps -0 and negatives to +0, exactly like reluForward
  ;; (v > 0 || v !== v ? v : 0); leaky is v > 0 ? v : v * slope, like leakyReluForward.
  (func $act4 (param $v v128) (param $act i32) (param $slope f32) (result v128)
    (if (i32.eq (local.get $act) (i32.const 1))
      (then (return (v128.and (local.get $v)
        (v128.or (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0))
                 (f32x4.ne (local.get $v) (local.get $v)))))))
    (if (i32.eq (local.get $act) (i32.const 2))
      (then (return (v128.bitselect (local.get $v)
        (f32x4.mul (local.get $v) (f32x4.splat (local.get $slope)))
        (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0))))))
    (local.get $v))

  (func $act1 (param $v f32) (param $act i32) (param $slope f32) (result f32)
    (if (i32.eq (local.get $act) (i32.const 1))
      (then (return (select (local.get $v) (f32.const 0)
        (i32.or (f32.gt (local.get $v) (f32.const 0)) (f32.ne (local.get $v) (local.get $v)))))))
    (if (i32.eq (local.get $act) (i32.const 2))
      (then (return (select (local.get $v) (f32.mul (local.get $v) (local.get $slope))
        (f32.gt (local.get $v) (f32.const 0))))))
    (local.get $v))

  ;; ---------------------------------------------------------------- dense forward: dot form
  ;; y[b, o] = sum_i x[b, i] * w[o, i]: both operands are contiguous along i, so each output is a
  ;; dot product. Register block: 2 rows of x times 4 rows of w = 8 f32x4 accumulators (+ 2 x
  ;; vectors + 1 w vector = 11 of the 16 xmm/NEON-q registers V8 may use without spilling).

  ;; dots of two x rows (xa, xb) with w rows w0 + k*ldw, k = 0..3, over I floats (byte addresses)
  (func $dot_2x4 (param $xa i32) (param $xb i32) (param $w0 i32) (param $ldw i32) (param $I i32)
                 (result v128 v128)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $i i32) (local $n4 i32) (local $nb i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $xv v128) (local $zv v128) (local $wv v128) (local $ra v128) (local $rc v128)
    (local.set $w1 (i32.add (local.get $w0) (local.get $ldw)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $ldw)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $ldw)))
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (if (local.get $n4)
      (then
        (loop $l
          (local.set $xv (v128.load (i32.add (local.get $xa) (local.get $i))))
          (local.set $zv (v128.load (i32.add (local.get $xb) (local.get $i))))
          (local.set $wv (v128.load (i32.add (local.get $w0) (local.get $i))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xv) (local.get $wv))))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $zv) (local.get $wv))))
          (local.set $wv (v128.load (i32.add (local.get $w1) (local.get $i))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xv) (local.get $wv))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $zv) (local.get $wv))))
          (local.set $wv (v128.load (i32.add (local.get $w2) (local.get $i))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xv) (local.get $wv))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $zv) (local.get $wv))))
          (local.set $wv (v128.load (i32.add (local.get $w3) (local.get $i))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $xv) (local.get $wv))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $zv) (local.get $wv))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $n4))))))
    (local.set $ra (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
    (local.set $rc (call $hsum4 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)))
    ;; the last I % 4 columns: one f32x4 across the four w rows
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (local.set $wv
          (f32x4.replace_lane 3
            (f32x4.replace_lane 2
              (f32x4.replace_lane 1
                (f32x4.splat (f32.load (i32.add (local.get $w0) (local.get $i))))
                (f32.load (i32.add (local.get $w1) (local.get $i))))
              (f32.load (i32.add (local.get $w2) (local.get $i))))
            (f32.load (i32.add (local.get $w3) (local.get $i)))))
        (local.set $ra (f32x4.add (local.get $ra)
          (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $xa) (local.get $i)))) (local.get $wv))))
        (local.set $rc (f32x4.add (local.get $rc)
          (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $xb) (local.get $i)))) (local.get $wv))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $t)))
    (local.get $ra) (local.get $rc))

  ;; dots of one x row with w rows w0 + k*ldw, k = 0..3 (the batch-1 GEMV path).
  ;; Two accumulators per w row (even and odd 4-float chunks): one chain of dependent adds per
  ;; row would bound the loop by the add latency (~4 cycles a chunk) instead of by the loads;
  ;; 8 accumulators + 2 x vectors + 1 w vector = 11 registers.
  (func $dot_1x4 (param $xa i32) (param $w0 i32) (param $ldw i32) (param $I i32) (result v128)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $i i32) (local $n4 i32) (local $n8 i32) (local $nb i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $xv v128) (local $xw v128) (local $wv v128) (local $r v128)
    (local.set $w1 (i32.add (local.get $w0) (local.get $ldw)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $ldw)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $ldw)))
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $n8 (i32.and (local.get $nb) (i32.const -32)))
    (if (local.get $n8)
      (then
        (loop $l2
          (local.set $xv (v128.load (i32.add (local.get $xa) (local.get $i))))
          (local.set $xw (v128.load offset=16 (i32.add (local.get $xa) (local.get $i))))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w0) (local.get $i))))))
          (local.set $b0 (f32x4.add (local.get $b0)
            (f32x4.mul (local.get $xw) (v128.load offset=16 (i32.add (local.get $w0) (local.get $i))))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w1) (local.get $i))))))
          (local.set $b1 (f32x4.add (local.get $b1)
            (f32x4.mul (local.get $xw) (v128.load offset=16 (i32.add (local.get $w1) (local.get $i))))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w2) (local.get $i))))))
          (local.set $b2 (f32x4.add (local.get $b2)
            (f32x4.mul (local.get $xw) (v128.load offset=16 (i32.add (local.get $w2) (local.get $i))))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w3) (local.get $i))))))
          (local.set $b3 (f32x4.add (local.get $b3)
            (f32x4.mul (local.get $xw) (v128.load offset=16 (i32.add (local.get $w3) (local.get $i))))))
          (br_if $l2 (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 32))) (local.get $n8))))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $b0)))
        (local.set $a1 (f32x4.add (local.get $a1) (local.get $b1)))
        (local.set $a2 (f32x4.add (local.get $a2) (local.get $b2)))
        (local.set $a3 (f32x4.add (local.get $a3) (local.get $b3)))))
    ;; at most one more 4-float chunk
    (if (i32.lt_u (local.get $i) (local.get $n4))
      (then
        (loop $l
          (local.set $xv (v128.load (i32.add (local.get $xa) (local.get $i))))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w0) (local.get $i))))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w1) (local.get $i))))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w2) (local.get $i))))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $w3) (local.get $i))))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $n4))))))
    (local.set $r (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (local.set $wv
          (f32x4.replace_lane 3
            (f32x4.replace_lane 2
              (f32x4.replace_lane 1
                (f32x4.splat (f32.load (i32.add (local.get $w0) (local.get $i))))
                (f32.load (i32.add (local.get $w1) (local.get $i))))
              (f32.load (i32.add (local.get $w2) (local.get $i))))
            (f32.load (i32.add (local.get $w3) (local.get $i)))))
        (local.set $r (f32x4.add (local.get $r)
          (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $xa) (local.get $i)))) (local.get $wv))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $t)))
    (local.get $r))

  ;; one dot product of I floats (the O % 4 leftover outputs)
  (func $dot_1 (param $xa i32) (param $wa i32) (param $I i32) (result f32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $a v128) (local $s f32)
    (local.set $nb (i32.shl (local.get $I) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (if (local.get $n4)
      (then
        (loop $l
          (local.set $a (f32x4.add (local.get $a)
            (f32x4.mul (v128.load (i32.add (local.get $xa) (local.get $i)))
                       (v128.load (i32.add (local.get $wa) (local.get $i))))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $n4))))))
    (local.set $s (call $hsum1 (local.get $a)))
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (local.set $s (f32.add (local.get $s)
          (f32.mul (f32.load (i32.add (local.get $xa) (local.get $i)))
                   (f32.load (i32.add (local.get $wa) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $t)))
    (local.get $s))

  ;; y = act(x Wᵀ + b).  y (B, O), x (B, I), w (O, I), b (O) or -1.  act: 0 none, 1 relu, 2 leaky.
  ;; Loop order: a tile of 4 w rows (4*I floats, 12.5 KB at I = 784: stays in L1) outside, the
  ;; rows of x in pairs inside, so W streams from memory once per call whatever B is (x, B*I
  ;; floats, is the operand re-read, from L2). With B = 1 this is the GEMV path (dot_1x4).
  (func (export "dense_forward")
        (param $y i32) (param $x i32) (param $w i32) (param $b i32)
        (param $B i32) (param $I i32) (param $O i32) (param $act i32) (param $slope f32)
    (local $Ib i32) (local $Ob i32) (local $bi i32) (local $o i32) (local $ob i32)
    (local $xr i32) (local $yr i32) (local $wr i32) (local $hasB i32)
    (local $r0 v128) (local $r1 v128) (local $bv v128) (local $bs f32)
    (local.set $hasB (i32.ge_s (local.get $b) (i32.const 0)))
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $w (i32.shl (local.get $w) (i32.const 2)))
    (local.set $b (i32.shl (local.get $b) (i32.const 2)))
    (local.set $Ib (i32.shl (local.get $I) (i32.const 2)))
    (local.set $Ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $wr (local.get $w))
    ;; tiles of 4 outputs
    (block $e4
      (loop $o4
        (br_if $e4 (i32.gt_s (i32.add (local.get $o) (i32.const 4)) (local.get $O)))
        (local.set $ob (i32.shl (local.get $o) (i32.const 2)))
        (local.set $bv (v128.const i32x4 0 0 0 0))
        (if (local.get $hasB)
          (then (local.set $bv (v128.load (i32.add (local.get $b) (local.get $ob))))))
        (local.set $xr (local.get $x))
        (local.set $yr (i32.add (local.get $y) (local.get $ob)))
        (local.set $bi (i32.const 0))
        ;; rows in pairs: every w vector loaded serves two rows
        (block $end2
          (loop $rows2
            (br_if $end2 (i32.gt_s (i32.add (local.get $bi) (i32.const 2)) (local.get $B)))
            (call $dot_2x4 (local.get $xr) (i32.add (local.get $xr) (local.get $Ib))
                           (local.get $wr) (local.get $Ib) (local.get $I))
            (local.set $r1)
            (local.set $r0)
            (v128.store (local.get $yr)
              (call $act4 (f32x4.add (local.get $r0) (local.get $bv)) (local.get $act) (local.get $slope)))
            (v128.store (i32.add (local.get $yr) (local.get $Ob))
              (call $act4 (f32x4.add (local.get $r1) (local.get $bv)) (local.get $act) (local.get $slope)))
            (local.set $xr (i32.add (local.get $xr) (i32.shl (local.get $Ib) (i32.const 1))))
            (local.set $yr (i32.add (local.get $yr) (i32.shl (local.get $Ob) (i32.const 1))))
            (local.set $bi (i32.add (local.get $bi) (i32.const 2)))
            (br $rows2)))
        ;; the odd last row (every row when B = 1)
        (if (i32.lt_s (local.get $bi) (local.get $B))
          (then
            (v128.store (local.get $yr)
              (call $act4 (f32x4.add (call $dot_1x4 (local.get $xr) (local.get $wr) (local.get $Ib) (local.get $I))
                                     (local.get $bv))
                          (local.get $act) (local.get $slope)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $wr (i32.add (local.get $wr) (i32.shl (local.get $Ib) (i32.const 2))))
        (br $o4)))
    ;; the last O % 4 outputs, one dot product each
    (block $e1
      (loop $o1
        (br_if $e1 (i32.ge_s (local.get $o) (local.get $O)))
        (local.set $ob (i32.shl (local.get $o) (i32.const 2)))
        (local.set $bs (f32.const 0))
        (if (local.get $hasB)
          (then (local.set $bs (f32.load (i32.add (local.get $b) (local.get $ob))))))
        (local.set $xr (local.get $x))
        (local.set $yr (i32.add (local.get $y) (local.get $ob)))
        (local.set $bi (i32.const 0))
        (block $eb
          (loop $rows
            (br_if $eb (i32.ge_s (local.get $bi) (local.get $B)))
            (f32.store (local.get $yr)
              (call $act1 (f32.add (call $dot_1 (local.get $xr) (local.get $wr) (local.get $I)) (local.get $bs))
                          (local.get $act) (local.get $slope)))
            (local.set $xr (i32.add (local.get $xr) (local.get $Ib)))
            (local.set $yr (i32.add (local.get $yr) (local.get $Ob)))
            (local.set $bi (i32.add (local.get $bi) (i32.const 1)))
            (br $rows)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $wr (i32.add (local.get $wr) (local.get $Ib)))
        (br $o1))))

  ;; ---------------------------------------------------------------- dense backward: broadcast form
  ;; Both gradient products have the shape C[m, 0..N) += sum_k A[m, k] * Bm[k, 0..N) with C and Bm
  ;; contiguous along N (= I), so one tiled routine serves both:
  ;;   dX (B, I) += dY (B, O) · W (O, I):   m = b, k = o, A[m, k] = dy[m*O + k]  (ars = O*4, aks = 4)
  ;;   dW (O, I) += dYᵀ (O, B) · X (B, I):  m = o, k = b, A[m, k] = dy[k*O + m]  (ars = 4, aks = O*4)
  ;; Register block 4 rows of C x 8 columns = 8 accumulators; each k step loads 2 vectors of Bm
  ;; and splats 4 scalars of A. Sums over k stay in registers and are added to C once (+=).
  ;; Arguments: c, a, bp byte addresses; ld = N*4 (row stride of C and Bm); K >= 1.

  (func $acc_4x8 (param $c i32) (param $ld i32) (param $a i32) (param $ars i32) (param $aks i32)
                 (param $bp i32) (param $K i32)
    (local $k i32) (local $ars2 i32) (local $ars3 i32) (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $ars2 (i32.shl (local.get $ars) (i32.const 1)))
    (local.set $ars3 (i32.add (local.get $ars2) (local.get $ars)))
    (loop $l
      (local.set $b0 (v128.load (local.get $bp)))
      (local.set $b1 (v128.load offset=16 (local.get $bp)))
      (local.set $s (f32x4.splat (f32.load (local.get $a))))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $ars)))))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $ars2)))))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $ars3)))))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (local.get $aks)))
      (local.set $bp (i32.add (local.get $bp) (local.get $ld)))
      (br_if $l (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c20)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c30)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31))))

  (func $acc_4x4 (param $c i32) (param $ld i32) (param $a i32) (param $ars i32) (param $aks i32)
                 (param $bp i32) (param $K i32)
    (local $k i32) (local $ars2 i32) (local $ars3 i32) (local $b0 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $ars2 (i32.shl (local.get $ars) (i32.const 1)))
    (local.set $ars3 (i32.add (local.get $ars2) (local.get $ars)))
    (loop $l
      (local.set $b0 (v128.load (local.get $bp)))
      (local.set $c0 (f32x4.add (local.get $c0)
        (f32x4.mul (f32x4.splat (f32.load (local.get $a))) (local.get $b0))))
      (local.set $c1 (f32x4.add (local.get $c1)
        (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $ars)))) (local.get $b0))))
      (local.set $c2 (f32x4.add (local.get $c2)
        (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $ars2)))) (local.get $b0))))
      (local.set $c3 (f32x4.add (local.get $c3)
        (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $ars3)))) (local.get $b0))))
      (local.set $a (i32.add (local.get $a) (local.get $aks)))
      (local.set $bp (i32.add (local.get $bp) (local.get $ld)))
      (br_if $l (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c0)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c1)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c2)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c3))))

  ;; 4 rows x 1 column (the N % 4 leftover columns)
  (func $acc_4x1 (param $c i32) (param $ld i32) (param $a i32) (param $ars i32) (param $aks i32)
                 (param $bp i32) (param $K i32)
    (local $k i32) (local $ars2 i32) (local $ars3 i32) (local $bv f32)
    (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32)
    (local.set $ars2 (i32.shl (local.get $ars) (i32.const 1)))
    (local.set $ars3 (i32.add (local.get $ars2) (local.get $ars)))
    (loop $l
      (local.set $bv (f32.load (local.get $bp)))
      (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (local.get $a)) (local.get $bv))))
      (local.set $s1 (f32.add (local.get $s1)
        (f32.mul (f32.load (i32.add (local.get $a) (local.get $ars))) (local.get $bv))))
      (local.set $s2 (f32.add (local.get $s2)
        (f32.mul (f32.load (i32.add (local.get $a) (local.get $ars2))) (local.get $bv))))
      (local.set $s3 (f32.add (local.get $s3)
        (f32.mul (f32.load (i32.add (local.get $a) (local.get $ars3))) (local.get $bv))))
      (local.set $a (i32.add (local.get $a) (local.get $aks)))
      (local.set $bp (i32.add (local.get $bp) (local.get $ld)))
      (br_if $l (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
    (f32.store (local.get $c) (f32.add (f32.load (local.get $c)) (local.get $s0)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (f32.store (local.get $c) (f32.add (f32.load (local.get $c)) (local.get $s1)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (f32.store (local.get $c) (f32.add (f32.load (local.get $c)) (local.get $s2)))
    (local.set $c (i32.add (local.get $c) (local.get $ld)))
    (f32.store (local.get $c) (f32.add (f32.load (local.get $c)) (local.get $s3))))

  ;; single-row variants (the M % 4 leftover rows; with B = 1, every dX row)
  (func $acc_1x8 (param $c i32) (param $ld i32) (param $a i32) (param $aks i32) (param $bp i32) (param $K i32)
    (local $k i32) (local $s v128) (local $c0 v128) (local $c1 v128)
    (loop $l
      (local.set $s (f32x4.splat (f32.load (local.get $a))))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load (local.get $bp)))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
      (local.set $a (i32.add (local.get $a) (local.get $aks)))
      (local.set $bp (i32.add (local.get $bp) (local.get $ld)))
      (br_if $l (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c0)))
    (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c1))))

  (func $acc_1x4 (param $c i32) (param $ld i32) (param $a i32) (param $aks i32) (param $bp i32) (param $K i32)
    (local $k i32) (local $c0 v128)
    (loop $l
      (local.set $c0 (f32x4.add (local.get $c0)
        (f32x4.mul (f32x4.splat (f32.load (local.get $a))) (v128.load (local.get $bp)))))
      (local.set $a (i32.add (local.get $a) (local.get $aks)))
      (local.set $bp (i32.add (local.get $bp) (local.get $ld)))
      (br_if $l (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
    (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c0))))

  (func $acc_1x1 (param $c i32) (param $ld i32) (param $a i32) (param $aks i32) (param $bp i32) (param $K i32)
    (local $k i32) (local $s f32)
    (loop $l
      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $bp)))))
      (local.set $a (i32.add (local.get $a) (local.get $aks)))
      (local.set $bp (i32.add (local.get $bp) (local.get $ld)))
      (br_if $l (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
    (f32.store (local.get $c) (f32.add (f32.load (local.get $c)) (local.get $s))))

  ;; C (M, N) += A (M, K) · Bm (K, N), A element [m, k] at a + m*ars + k*aks (bytes)
  (func $gemm_acc (param $C i32) (param $A i32) (param $ars i32) (param $aks i32) (param $Bm i32)
                  (param $M i32) (param $K i32) (param $N i32)
    (local $ld i32) (local $n8 i32) (local $m i32) (local $n i32) (local $cr i32) (local $ar i32)
    (if (i32.or (i32.le_s (local.get $M) (i32.const 0))
                (i32.or (i32.le_s (local.get $K) (i32.const 0)) (i32.le_s (local.get $N) (i32.const 0))))
      (then (return)))
    (local.set $ld (i32.shl (local.get $N) (i32.const 2)))
    (local.set $n8 (i32.and (local.get $ld) (i32.const -32)))
    (block $e4
      (loop $m4
        (br_if $e4 (i32.gt_s (i32.add (local.get $m) (i32.const 4)) (local.get $M)))
        (local.set $cr (i32.add (local.get $C) (i32.mul (local.get $m) (local.get $ld))))
        (local.set $ar (i32.add (local.get $A) (i32.mul (local.get $m) (local.get $ars))))
        (local.set $n (i32.const 0))
        (block $x8
          (loop $l8
            (br_if $x8 (i32.ge_u (local.get $n) (local.get $n8)))
            (call $acc_4x8 (i32.add (local.get $cr) (local.get $n)) (local.get $ld) (local.get $ar)
                           (local.get $ars) (local.get $aks) (i32.add (local.get $Bm) (local.get $n)) (local.get $K))
            (local.set $n (i32.add (local.get $n) (i32.const 32)))
            (br $l8)))
        (if (i32.le_u (i32.add (local.get $n) (i32.const 16)) (local.get $ld))
          (then
            (call $acc_4x4 (i32.add (local.get $cr) (local.get $n)) (local.get $ld) (local.get $ar)
                           (local.get $ars) (local.get $aks) (i32.add (local.get $Bm) (local.get $n)) (local.get $K))
            (local.set $n (i32.add (local.get $n) (i32.const 16)))))
        (block $x1
          (loop $l1
            (br_if $x1 (i32.ge_u (local.get $n) (local.get $ld)))
            (call $acc_4x1 (i32.add (local.get $cr) (local.get $n)) (local.get $ld) (local.get $ar)
                           (local.get $ars) (local.get $aks) (i32.add (local.get $Bm) (local.get $n)) (local.get $K))
            (local.set $n (i32.add (local.get $n) (i32.const 4)))
            (br $l1)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (br $m4)))
    (block $e1
      (loop $m1
        (br_if $e1 (i32.ge_s (local.get $m) (local.get $M)))
        (local.set $cr (i32.add (local.get $C) (i32.mul (local.get $m) (local.get $ld))))
        (local.set $ar (i32.add (local.get $A) (i32.mul (local.get $m) (local.get $ars))))
        (local.set $n (i32.const 0))
        (block $y8
          (loop $k8
            (br_if $y8 (i32.ge_u (local.get $n) (local.get $n8)))
            (call $acc_1x8 (i32.add (local.get $cr) (local.get $n)) (local.get $ld) (local.get $ar)
                           (local.get $aks) (i32.add (local.get $Bm) (local.get $n)) (local.get $K))
            (local.set $n (i32.add (local.get $n) (i32.const 32)))
            (br $k8)))
        (if (i32.le_u (i32.add (local.get $n) (i32.const 16)) (local.get $ld))
          (then
            (call $acc_1x4 (i32.add (local.get $cr) (local.get $n)) (local.get $ld) (local.get $ar)
                           (local.get $aks) (i32.add (local.get $Bm) (local.get $n)) (local.get $K))
            (local.set $n (i32.add (local.get $n) (i32.const 16)))))
        (block $y1
          (loop $k1
            (br_if $y1 (i32.ge_u (local.get $n) (local.get $ld)))
            (call $acc_1x1 (i32.add (local.get $cr) (local.get $n)) (local.get $ld) (local.get $ar)
                           (local.get $aks) (i32.add (local.get $Bm) (local.get $n)) (local.get $K))
            (local.set $n (i32.add (local.get $n) (i32.const 4)))
            (br $k1)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $m1))))

  ;; db (O) += sum_b dy[b, :]   (db, dy byte addresses)
  (func $colsum_acc (param $db i32) (param $dy i32) (param $B i32) (param $O i32)
    (local $Ob i32) (local $o4 i32) (local $o i32) (local $p i32) (local $k i32)
    (local $acc v128) (local $s f32)
    (if (i32.or (i32.le_s (local.get $B) (i32.const 0)) (i32.le_s (local.get $O) (i32.const 0)))
      (then (return)))
    (local.set $Ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $o4 (i32.and (local.get $Ob) (i32.const -16)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_u (local.get $o) (local.get $o4)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $dy) (local.get $o)))
        (local.set $k (i32.const 0))
        (loop $b
          (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (local.get $Ob)))
          (br_if $b (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $B))))
        (v128.store (i32.add (local.get $db) (local.get $o))
          (f32x4.add (v128.load (i32.add (local.get $db) (local.get $o))) (local.get $acc)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $l4)))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_u (local.get $o) (local.get $Ob)))
        (local.set $s (f32.const 0))
        (local.set $p (i32.add (local.get $dy) (local.get $o)))
        (local.set $k (i32.const 0))
        (loop $b1
          (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (local.get $Ob)))
          (br_if $b1 (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $B))))
        (f32.store (i32.add (local.get $db) (local.get $o))
          (f32.add (f32.load (i32.add (local.get $db) (local.get $o))) (local.get $s)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $l1))))

  ;; dx (B, I) += dy·W, dw (O, I) += dyᵀ·x, db (O) += sum_b dy; each may be -1 (not needed)
  (func (export "dense_backward")
        (param $dx i32) (param $dw i32) (param $db i32) (param $dy i32) (param $x i32) (param $w i32)
        (param $B i32) (param $I i32) (param $O i32)
    (local $Ob i32)
    (local.set $Ob (i32.shl (local.get $O) (i32.const 2)))
    (if (i32.ge_s (local.get $db) (i32.const 0))
      (then (call $colsum_acc (i32.shl (local.get $db) (i32.const 2)) (i32.shl (local.get $dy) (i32.const 2))
                              (local.get $B) (local.get $O))))
    (if (i32.ge_s (local.get $dw) (i32.const 0))
      (then (call $gemm_acc (i32.shl (local.get $dw) (i32.const 2)) (i32.shl (local.get $dy) (i32.const 2))
                            (i32.const 4) (local.get $Ob) (i32.shl (local.get $x) (i32.const 2))
                            (local.get $O) (local.get $B) (local.get $I))))
    (if (i32.ge_s (local.get $dx) (i32.const 0))
      (then (call $gemm_acc (i32.shl (local.get $dx) (i32.const 2)) (i32.shl (local.get $dy) (i32.const 2))
                            (local.get $Ob) (i32.const 4) (i32.shl (local.get $w) (i32.const 2))
                            (local.get $B) (local.get $O) (local.get $I)))))

  ;; ---------------------------------------------------------------- elementwise activations
  ;; Bit-exact twins of runtime/ops/relu.ts and leaky-relu.ts (see the NOTEs there).

  (func (export "relu_forward") (param $y i32) (param $x i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $v v128) (local $s f32)
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (v128.and (local.get $v)
            (v128.or (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0)) (f32x4.ne (local.get $v) (local.get $v)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_s (local.get $i) (local.get $nb)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $i))))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (select (local.get $s) (f32.const 0)
            (i32.or (f32.gt (local.get $s) (f32.const 0)) (f32.ne (local.get $s) (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1))))

  ;; dx += dy where y > 0. NOTE: lanes with y <= 0 keep dx untouched (bitselect), not dx + 0:
  ;; -0 + 0 would turn a -0 gradient into +0.
  (func (export "relu_backward") (param $dx i32) (param $dy i32) (param $y i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $d v128) (local $p i32)
    (local.set $dx (i32.shl (local.get $dx) (i32.const 2)))
    (local.set $dy (i32.shl (local.get $dy) (i32.const 2)))
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $p (i32.add (local.get $dx) (local.get $i)))
        (local.set $d (v128.load (local.get $p)))
        (v128.store (local.get $p)
          (v128.bitselect
            (f32x4.add (local.get $d) (v128.load (i32.add (local.get $dy) (local.get $i))))
            (local.get $d)
            (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $i))) (v128.const i32x4 0 0 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_s (local.get $i) (local.get $nb)))
        (if (f32.gt (f32.load (i32.add (local.get $y) (local.get $i))) (f32.const 0))
          (then
            (local.set $p (i32.add (local.get $dx) (local.get $i)))
            (f32.store (local.get $p)
              (f32.add (f32.load (local.get $p)) (f32.load (i32.add (local.get $dy) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1))))

  ;; tanh as Eigen's float rational approximation (ptanh_float): clamp to [-c, c], an odd degree-13
  ;; numerator over an even degree-6 denominator in x*x, evaluated in f32; |x| < 4e-4 returns x.
  ;; NOTE: not bit-exact with Math.tanh (the JS kernel): measured over [-20, 20] in steps of 1e-5
  ;; it is within 7 ulp and 4.2e-7 absolute (test/runtime/wasm), inside PyTorch-parity tolerances
  ;; (abs 1e-6 + rel 1e-5); wasm has no exp, and Math.tanh costs ~20 ns an element.
  (func (export "tanh_forward") (param $y i32) (param $x i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $v v128) (local $c v128) (local $c2 v128)
    (local $s f32) (local $t f32) (local $t2 f32)
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $c (f32x4.min (f32x4.max (local.get $v) (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805))
                                 (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805)))
        (local.set $c2 (f32x4.mul (local.get $c) (local.get $c)))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (v128.bitselect
            (local.get $v)
            (f32x4.div (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16) (local.get $c2)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13)) (local.get $c2)) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11)) (local.get $c2)) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08)) (local.get $c2)) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05)) (local.get $c2)) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04)) (local.get $c2)) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03)) (local.get $c)) (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06) (local.get $c2)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04)) (local.get $c2)) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03)) (local.get $c2)) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
            (f32x4.lt (f32x4.abs (local.get $v)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_s (local.get $i) (local.get $nb)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $i))))
        (local.set $t (f32.min (f32.max (local.get $s) (f32.const -7.90531110763549805)) (f32.const 7.90531110763549805)))
        (local.set $t2 (f32.mul (local.get $t) (local.get $t)))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (select
            (local.get $s)
            (f32.div (f32.mul (f32.add (f32.mul (f32.add (f32.mul (f32.add (f32.mul (f32.add (f32.mul (f32.add (f32.mul (f32.add (f32.mul (f32.const -2.76076847742355e-16) (local.get $t2)) (f32.const 2.00018790482477e-13)) (local.get $t2)) (f32.const -8.60467152213735e-11)) (local.get $t2)) (f32.const 5.12229709037114e-08)) (local.get $t2)) (f32.const 1.48572235717979e-05)) (local.get $t2)) (f32.const 6.37261928875436e-04)) (local.get $t2)) (f32.const 4.89352455891786e-03)) (local.get $t)) (f32.add (f32.mul (f32.add (f32.mul (f32.add (f32.mul (f32.const 1.19825839466702e-06) (local.get $t2)) (f32.const 1.18534705686654e-04)) (local.get $t2)) (f32.const 2.26843463243900e-03)) (local.get $t2)) (f32.const 4.89352518554385e-03)))
            (f32.lt (f32.abs (local.get $s)) (f32.const 0.0004))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1))))

  (func (export "leaky_relu_forward") (param $y i32) (param $x i32) (param $n i32) (param $slope f32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $v v128) (local $sv v128) (local $s f32)
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $sv (f32x4.splat (local.get $slope)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (v128.bitselect (local.get $v) (f32x4.mul (local.get $v) (local.get $sv))
                          (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_s (local.get $i) (local.get $nb)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $i))))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (select (local.get $s) (f32.mul (local.get $s) (local.get $slope)) (f32.gt (local.get $s) (f32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1))))

  ;; dx += x > 0 ? dy : dy * slope.
  ;; NOTE: the JS kernel evaluates dx + dy*slope in float64 (the product of two float32 is exact
  ;; there) and rounds once on store: a fused multiply-add, double-rounded. Doing it as f32 mul +
  ;; f32 add would differ by an ulp now and then, so the lanes are widened to f64x2 and rounded
  ;; once, reproducing the JS result bit for bit (coefficient 1 for x > 0 gives dx + dy exactly).
  (func (export "leaky_relu_backward") (param $dx i32) (param $dy i32) (param $x i32) (param $n i32)
        (param $slope f32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $p i32)
    (local $d v128) (local $g v128) (local $cf v128) (local $sv v128) (local $lo v128) (local $hi v128)
    (local $cs f32)
    (local.set $dx (i32.shl (local.get $dx) (i32.const 2)))
    (local.set $dy (i32.shl (local.get $dy) (i32.const 2)))
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $sv (f32x4.splat (local.get $slope)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $p (i32.add (local.get $dx) (local.get $i)))
        (local.set $d (v128.load (local.get $p)))
        (local.set $g (v128.load (i32.add (local.get $dy) (local.get $i))))
        (local.set $cf (v128.bitselect (v128.const f32x4 1 1 1 1) (local.get $sv)
          (f32x4.gt (v128.load (i32.add (local.get $x) (local.get $i))) (v128.const i32x4 0 0 0 0))))
        (local.set $lo (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $d))
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $g)) (f64x2.promote_low_f32x4 (local.get $cf))))))
        (local.set $hi (f32x4.demote_f64x2_zero (f64x2.add
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))
          (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $cf) (local.get $cf)))))))
        (v128.store (local.get $p)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $lo) (local.get $hi)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_s (local.get $i) (local.get $nb)))
        (local.set $p (i32.add (local.get $dx) (local.get $i)))
        (local.set $cs (select (f32.const 1) (local.get $slope)
          (f32.gt (f32.load (i32.add (local.get $x) (local.get $i))) (f32.const 0))))
        (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p)))
          (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $i)))) (f64.promote_f32 (local.get $cs))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1))))

  ;; ---------------------------------------------------------------- optimizers
  ;; Bit-exact twins of runtime/optim/sgd.ts and adam.ts. Scalars arrive as the float64 values the
  ;; JS step computes (already rounded to float32 where JS rounds them). Where JS evaluates
  ;; x + c*y in float64 and rounds once (torch's fused add-with-alpha), the kernel widens to
  ;; f64x2 and does the same; every other op is a single float32 operation, which equals JS's
  ;; float64 op + Math.fround for +, -, *, /, sqrt of float32 operands (double rounding is
  ;; innocuous there: 53 >= 2*24 + 2).

  ;; SGD, two lanes per step in f64x2, line for line as sgd.ts (R = round to f32 = demote+promote):
  ;;   w = p; d = sign*g; if wd: d = R(d + wd*w)
  ;;   if momentum: buf = first ? d : R(R(buf*mom) + keep*d); d = nesterov ? R(d + mom*buf) : buf
  ;;   p = R(w + negLr*d)
  ;; flags: 1 weight decay, 2 momentum, 4 nesterov, 8 first step (t <= 1), 16 maximize
  (func (export "sgd_step") (param $p i32) (param $g i32) (param $s i32) (param $n i32)
        (param $negLr f64) (param $wd f64) (param $mom f64) (param $keep f64) (param $flags i32)
    (local $i i32) (local $n2 i32) (local $nb i32)
    (local $hasWd i32) (local $hasMom i32) (local $nesterov i32) (local $first i32) (local $maximize i32)
    (local $LR v128) (local $WD v128) (local $MOM v128) (local $KEEP v128)
    (local $w v128) (local $d v128) (local $buf v128)
    (local $ws f64) (local $ds f64) (local $bs f64)
    (local.set $p (i32.shl (local.get $p) (i32.const 2)))
    (local.set $g (i32.shl (local.get $g) (i32.const 2)))
    (local.set $s (i32.shl (local.get $s) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n2 (i32.and (local.get $nb) (i32.const -8)))
    (local.set $hasWd (i32.and (local.get $flags) (i32.const 1)))
    (local.set $hasMom (i32.and (local.get $flags) (i32.const 2)))
    (local.set $nesterov (i32.and (local.get $flags) (i32.const 4)))
    (local.set $first (i32.and (local.get $flags) (i32.const 8)))
    (local.set $maximize (i32.and (local.get $flags) (i32.const 16)))
    (local.set $LR (f64x2.splat (local.get $negLr)))
    (local.set $WD (f64x2.splat (local.get $wd)))
    (local.set $MOM (f64x2.splat (local.get $mom)))
    (local.set $KEEP (f64x2.splat (local.get $keep)))
    (block $e2
      (loop $l2
        (br_if $e2 (i32.ge_s (local.get $i) (local.get $n2)))
        (local.set $w (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (local.get $i)))))
        (local.set $d (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $i)))))
        (if (local.get $maximize) (then (local.set $d (f64x2.neg (local.get $d)))))
        (if (local.get $hasWd)
          (then (local.set $d (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
            (f64x2.add (local.get $d) (f64x2.mul (local.get $WD) (local.get $w))))))))
        (if (local.get $hasMom)
          (then
            (if (local.get $first)
              (then (local.set $buf (local.get $d)))
              (else
                (local.set $buf (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.add
                  (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (f64x2.mul
                    (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $s) (local.get $i))))
                    (local.get $MOM))))
                  (f64x2.mul (local.get $KEEP) (local.get $d))))))))
            (v128.store64_lane 0 (i32.add (local.get $s) (local.get $i)) (f32x4.demote_f64x2_zero (local.get $buf)))
            (if (local.get $nesterov)
              (then (local.set $d (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
                (f64x2.add (local.get $d) (f64x2.mul (local.get $MOM) (local.get $buf)))))))
              (else (local.set $d (local.get $buf))))))
        (v128.store64_lane 0 (i32.add (local.get $p) (local.get $i))
          (f32x4.demote_f64x2_zero (f64x2.add (local.get $w) (f64x2.mul (local.get $LR) (local.get $d)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $l2)))
    ;; the odd last parameter, same steps in scalar f64
    (if (i32.lt_s (local.get $i) (local.get $nb))
      (then
        (local.set $ws (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $i)))))
        (local.set $ds (f64.promote_f32 (f32.load (i32.add (local.get $g) (local.get $i)))))
        (if (local.get $maximize) (then (local.set $ds (f64.neg (local.get $ds)))))
        (if (local.get $hasWd)
          (then (local.set $ds (f64.promote_f32 (f32.demote_f64
            (f64.add (local.get $ds) (f64.mul (local.get $wd) (local.get $ws))))))))
        (if (local.get $hasMom)
          (then
            (if (local.get $first)
              (then (local.set $bs (local.get $ds)))
              (else
                (local.set $bs (f64.promote_f32 (f32.demote_f64 (f64.add
                  (f64.promote_f32 (f32.demote_f64 (f64.mul
                    (f64.promote_f32 (f32.load (i32.add (local.get $s) (local.get $i)))) (local.get $mom))))
                  (f64.mul (local.get $keep) (local.get $ds))))))))
            (f32.store (i32.add (local.get $s) (local.get $i)) (f32.demote_f64 (local.get $bs)))
            (if (local.get $nesterov)
              (then (local.set $ds (f64.promote_f32 (f32.demote_f64
                (f64.add (local.get $ds) (f64.mul (local.get $mom) (local.get $bs)))))))
              (else (local.set $ds (local.get $bs))))))
        (f32.store (i32.add (local.get $p) (local.get $i))
          (f32.demote_f64 (f64.add (local.get $ws) (f64.mul (local.get $negLr) (local.get $ds))))))))

  ;; Adam / AdamW, four lanes per step in f32x4, as adam.ts:
  ;;   w = p; if decoupled: w = w*decay
  ;;   gr = sign*g; if l2: gr = R(gr + wd*w)                  (fused: f64x2)
  ;;   m = R(m*b1 + c1*gr)  with m*b1 rounded first           (fused: f64x2)
  ;;   v = v*b2 + (c2*gr)*gr; vd = amsgrad ? max(vmax, v) : v
  ;;   denom = sqrt(vd)/bc2Sqrt + eps; p = w + (negStep*m)/denom
  ;; Slabs: m = s[0..n), v = s[n..2n), vmax = s[2n..3n) (amsgrad).
  ;; flags: 1 decoupled (adamw), 2 l2 (adam with weight decay), 4 amsgrad, 8 maximize
  (func (export "adam_step") (param $p i32) (param $g i32) (param $s i32) (param $n i32)
        (param $negStep f64) (param $bc2Sqrt f64) (param $eps f64) (param $b1 f64) (param $c1 f64)
        (param $b2 f64) (param $c2 f64) (param $decay f64) (param $wd f64) (param $flags i32)
    (local $i i32) (local $n4 i32) (local $nb i32) (local $mp i32) (local $vp i32) (local $xp i32)
    (local $decoupled i32) (local $l2 i32) (local $ams i32) (local $maximize i32)
    (local $NS v128) (local $BC v128) (local $EPS v128) (local $B1 v128) (local $C1 v128)
    (local $B2 v128) (local $C2 v128) (local $DEC v128) (local $WD v128)
    (local $w v128) (local $gr v128) (local $m v128) (local $v v128) (local $t v128)
    (local $ws f32) (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $p (i32.shl (local.get $p) (i32.const 2)))
    (local.set $g (i32.shl (local.get $g) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $mp (i32.shl (local.get $s) (i32.const 2)))
    (local.set $vp (i32.add (local.get $mp) (local.get $nb)))
    (local.set $xp (i32.add (local.get $vp) (local.get $nb)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $decoupled (i32.and (local.get $flags) (i32.const 1)))
    (local.set $l2 (i32.and (local.get $flags) (i32.const 2)))
    (local.set $ams (i32.and (local.get $flags) (i32.const 4)))
    (local.set $maximize (i32.and (local.get $flags) (i32.const 8)))
    (local.set $NS (f32x4.splat (f32.demote_f64 (local.get $negStep))))
    (local.set $BC (f32x4.splat (f32.demote_f64 (local.get $bc2Sqrt))))
    (local.set $EPS (f32x4.splat (f32.demote_f64 (local.get $eps))))
    (local.set $B1 (f32x4.splat (f32.demote_f64 (local.get $b1))))
    (local.set $C1 (f64x2.splat (local.get $c1)))
    (local.set $B2 (f32x4.splat (f32.demote_f64 (local.get $b2))))
    (local.set $C2 (f32x4.splat (f32.demote_f64 (local.get $c2))))
    (local.set $DEC (f32x4.splat (f32.demote_f64 (local.get $decay))))
    (local.set $WD (f64x2.splat (local.get $wd)))
    (block $e4
      (loop $l4
        (br_if $e4 (i32.ge_s (local.get $i) (local.get $n4)))
        (local.set $w (v128.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decoupled) (then (local.set $w (f32x4.mul (local.get $w) (local.get $DEC)))))
        (local.set $gr (v128.load (i32.add (local.get $g) (local.get $i))))
        (if (local.get $maximize) (then (local.set $gr (f32x4.neg (local.get $gr)))))
        (if (local.get $l2)
          (then
            (local.set $gr (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $gr))
                (f64x2.mul (local.get $WD) (f64x2.promote_low_f32x4 (local.get $w)))))
              (f32x4.demote_f64x2_zero (f64x2.add
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gr) (local.get $gr)))
                (f64x2.mul (local.get $WD)
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))))))))))
        ;; m = R(R(m*b1) + c1*gr)
        (local.set $t (f32x4.mul (v128.load (i32.add (local.get $mp) (local.get $i))) (local.get $B1)))
        (local.set $m (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $t))
            (f64x2.mul (local.get $C1) (f64x2.promote_low_f32x4 (local.get $gr)))))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $t) (local.get $t)))
            (f64x2.mul (local.get $C1)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gr) (local.get $gr))))))))
        (v128.store (i32.add (local.get $mp) (local.get $i)) (local.get $m))
        (local.set $v (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $vp) (local.get $i))) (local.get $B2))
                                 (f32x4.mul (f32x4.mul (local.get $C2) (local.get $gr)) (local.get $gr))))
        (v128.store (i32.add (local.get $vp) (local.get $i)) (local.get $v))
        (if (local.get $ams)
          (then
            (local.set $v (f32x4.max (v128.load (i32.add (local.get $xp) (local.get $i))) (local.get $v)))
            (v128.store (i32.add (local.get $xp) (local.get $i)) (local.get $v))))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.add (local.get $w)
            (f32x4.div (f32x4.mul (local.get $NS) (local.get $m))
                       (f32x4.add (f32x4.div (f32x4.sqrt (local.get $v)) (local.get $BC)) (local.get $EPS)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
    ;; the last n % 4 parameters, same steps in scalar f32 / f64
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_s (local.get $i) (local.get $nb)))
        (local.set $ws (f32.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decoupled)
          (then (local.set $ws (f32.mul (local.get $ws) (f32.demote_f64 (local.get $decay))))))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (if (local.get $maximize) (then (local.set $gs (f32.neg (local.get $gs)))))
        (if (local.get $l2)
          (then (local.set $gs (f32.demote_f64 (f64.add (f64.promote_f32 (local.get $gs))
            (f64.mul (local.get $wd) (f64.promote_f32 (local.get $ws))))))))
        (local.set $ms (f32.demote_f64 (f64.add
          (f64.promote_f32 (f32.mul (f32.load (i32.add (local.get $mp) (local.get $i))) (f32.demote_f64 (local.get $b1))))
          (f64.mul (local.get $c1) (f64.promote_f32 (local.get $gs))))))
        (f32.store (i32.add (local.get $mp) (local.get $i)) (local.get $ms))
        (local.set $vs (f32.add (f32.mul (f32.load (i32.add (local.get $vp) (local.get $i))) (f32.demote_f64 (local.get $b2)))
          (f32.mul (f32.mul (f32.demote_f64 (local.get $c2)) (local.get $gs)) (local.get $gs))))
        (f32.store (i32.add (local.get $vp) (local.get $i)) (local.get $vs))
        (if (local.get $ams)
          (then
            (local.set $vs (f32.max (f32.load (i32.add (local.get $xp) (local.get $i))) (local.get $vs)))
            (f32.store (i32.add (local.get $xp) (local.get $i)) (local.get $vs))))
        (f32.store (i32.add (local.get $p) (local.get $i))
          (f32.add (local.get $ws)
            (f32.div (f32.mul (f32.demote_f64 (local.get $negStep)) (local.get $ms))
                     (f32.add (f32.div (f32.sqrt (local.get $vs)) (f32.demote_f64 (local.get $bc2Sqrt)))
                              (f32.demote_f64 (local.get $eps))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1))))

  ;; ---------------------------------------------------------------- int8 dense
  ;; y (B, O) int32 = bias (O) int32 (or -1) + sum_i x[b, i] * w[o, i], x (B, I) and w (O, I) int8.
  ;; x and w are Int8Array indices (= byte addresses), y and bias Int32Array indices.
  ;; Integer arithmetic only: zero points and requantization belong to the caller (fold the
  ;; input zero point into the bias at plan time: bias' = bias - zx * sum_i w[o, i]).
  ;; NOTE: int32 accumulation wraps past 2^31; |x*w| <= 2^14, so I <= 131072 is always safe.
  ;; Eight columns per step: v128.load8x8_s sign-extends to i16x8, i32x4.dot_i16x8_s multiplies
  ;; pairs and adds them into i32 lanes (exact: two 15-bit products fit easily).
  (func $dot_i8_1x4 (param $xa i32) (param $w0 i32) (param $I i32) (result v128)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $i i32) (local $n8 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xv v128) (local $r v128)
    (local $xs i32)
    (local.set $w1 (i32.add (local.get $w0) (local.get $I)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $I)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $I)))
    (local.set $n8 (i32.and (local.get $I) (i32.const -8)))
    (if (local.get $n8)
      (then
        (loop $l
          (local.set $xv (v128.load8x8_s (i32.add (local.get $xa) (local.get $i))))
          (local.set $a0 (i32x4.add (local.get $a0)
            (i32x4.dot_i16x8_s (local.get $xv) (v128.load8x8_s (i32.add (local.get $w0) (local.get $i))))))
          (local.set $a1 (i32x4.add (local.get $a1)
            (i32x4.dot_i16x8_s (local.get $xv) (v128.load8x8_s (i32.add (local.get $w1) (local.get $i))))))
          (local.set $a2 (i32x4.add (local.get $a2)
            (i32x4.dot_i16x8_s (local.get $xv) (v128.load8x8_s (i32.add (local.get $w2) (local.get $i))))))
          (local.set $a3 (i32x4.add (local.get $a3)
            (i32x4.dot_i16x8_s (local.get $xv) (v128.load8x8_s (i32.add (local.get $w3) (local.get $i))))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) (local.get $n8))))))
    (local.set $r (call $hsum4_i32 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $i) (local.get $I)))
        (local.set $xs (i32.load8_s (i32.add (local.get $xa) (local.get $i))))
        (local.set $r (i32x4.add (local.get $r)
          (i32x4.mul (i32x4.splat (local.get $xs))
            (i32x4.replace_lane 3
              (i32x4.replace_lane 2
                (i32x4.replace_lane 1
                  (i32x4.splat (i32.load8_s (i32.add (local.get $w0) (local.get $i))))
                  (i32.load8_s (i32.add (local.get $w1) (local.get $i))))
                (i32.load8_s (i32.add (local.get $w2) (local.get $i))))
              (i32.load8_s (i32.add (local.get $w3) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t)))
    (local.get $r))

  ;; dots of two x rows (xa, xb) with the 4 w rows of a tile (every w vector serves both rows)
  (func $dot_i8_2x4 (param $xa i32) (param $xb i32) (param $w0 i32) (param $I i32) (result v128 v128)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $i i32) (local $n8 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $xv v128) (local $zv v128) (local $wv v128) (local $ra v128) (local $rc v128)
    (local $xs i32) (local $zs i32)
    (local.set $w1 (i32.add (local.get $w0) (local.get $I)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $I)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $I)))
    (local.set $n8 (i32.and (local.get $I) (i32.const -8)))
    (if (local.get $n8)
      (then
        (loop $l
          (local.set $xv (v128.load8x8_s (i32.add (local.get $xa) (local.get $i))))
          (local.set $zv (v128.load8x8_s (i32.add (local.get $xb) (local.get $i))))
          (local.set $wv (v128.load8x8_s (i32.add (local.get $w0) (local.get $i))))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $xv) (local.get $wv))))
          (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (local.get $zv) (local.get $wv))))
          (local.set $wv (v128.load8x8_s (i32.add (local.get $w1) (local.get $i))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $xv) (local.get $wv))))
          (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (local.get $zv) (local.get $wv))))
          (local.set $wv (v128.load8x8_s (i32.add (local.get $w2) (local.get $i))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $xv) (local.get $wv))))
          (local.set $c2 (i32x4.add (local.get $c2) (i32x4.dot_i16x8_s (local.get $zv) (local.get $wv))))
          (local.set $wv (v128.load8x8_s (i32.add (local.get $w3) (local.get $i))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $xv) (local.get $wv))))
          (local.set $c3 (i32x4.add (local.get $c3) (i32x4.dot_i16x8_s (local.get $zv) (local.get $wv))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) (local.get $n8))))))
    (local.set $ra (call $hsum4_i32 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
    (local.set $rc (call $hsum4_i32 (local.get $c0) (local.get $c1) (local.get $c2) (local.get $c3)))
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $i) (local.get $I)))
        (local.set $wv
          (i32x4.replace_lane 3
            (i32x4.replace_lane 2
              (i32x4.replace_lane 1
                (i32x4.splat (i32.load8_s (i32.add (local.get $w0) (local.get $i))))
                (i32.load8_s (i32.add (local.get $w1) (local.get $i))))
              (i32.load8_s (i32.add (local.get $w2) (local.get $i))))
            (i32.load8_s (i32.add (local.get $w3) (local.get $i)))))
        (local.set $ra (i32x4.add (local.get $ra)
          (i32x4.mul (i32x4.splat (i32.load8_s (i32.add (local.get $xa) (local.get $i)))) (local.get $wv))))
        (local.set $rc (i32x4.add (local.get $rc)
          (i32x4.mul (i32x4.splat (i32.load8_s (i32.add (local.get $xb) (local.get $i)))) (local.get $wv))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t)))
    (local.get $ra) (local.get $rc))

  (func $dot_i8_1 (param $xa i32) (param $wa i32) (param $I i32) (result i32)
    (local $i i32) (local $n8 i32) (local $a v128) (local $s i32)
    (local.set $n8 (i32.and (local.get $I) (i32.const -8)))
    (if (local.get $n8)
      (then
        (loop $l
          (local.set $a (i32x4.add (local.get $a)
            (i32x4.dot_i16x8_s (v128.load8x8_s (i32.add (local.get $xa) (local.get $i)))
                               (v128.load8x8_s (i32.add (local.get $wa) (local.get $i))))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) (local.get $n8))))))
    (local.set $s (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
      (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a)))))
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $i) (local.get $I)))
        (local.set $s (i32.add (local.get $s)
          (i32.mul (i32.load8_s (i32.add (local.get $xa) (local.get $i)))
                   (i32.load8_s (i32.add (local.get $wa) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t)))
    (local.get $s))

  ;; Loop order as dense_forward: a tile of 4 w rows (4*I bytes: in L1) outside, the x rows in
  ;; pairs inside (dot_i8_2x4), so W streams once per call whatever B is.
  (func (export "dense_int8")
        (param $y i32) (param $x i32) (param $w i32) (param $bias i32) (param $B i32) (param $I i32) (param $O i32)
    (local $bi i32) (local $o i32) (local $xr i32) (local $yr i32) (local $wr i32) (local $hasB i32)
    (local $Ob i32) (local $bv v128) (local $r0 v128) (local $r1 v128) (local $s i32) (local $bs i32)
    (local.set $hasB (i32.ge_s (local.get $bias) (i32.const 0)))
    (local.set $y (i32.shl (local.get $y) (i32.const 2)))
    (local.set $bias (i32.shl (local.get $bias) (i32.const 2)))
    (local.set $Ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $wr (local.get $w))
    ;; tiles of 4 outputs
    (block $e4
      (loop $o4
        (br_if $e4 (i32.gt_s (i32.add (local.get $o) (i32.const 4)) (local.get $O)))
        (local.set $bv (v128.const i32x4 0 0 0 0))
        (if (local.get $hasB)
          (then (local.set $bv (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))))
        (local.set $xr (local.get $x))
        (local.set $yr (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 2))))
        (local.set $bi (i32.const 0))
        (block $end2
          (loop $rows2
            (br_if $end2 (i32.gt_s (i32.add (local.get $bi) (i32.const 2)) (local.get $B)))
            (call $dot_i8_2x4 (local.get $xr) (i32.add (local.get $xr) (local.get $I)) (local.get $wr) (local.get $I))
            (local.set $r1)
            (local.set $r0)
            (v128.store (local.get $yr) (i32x4.add (local.get $r0) (local.get $bv)))
            (v128.store (i32.add (local.get $yr) (local.get $Ob)) (i32x4.add (local.get $r1) (local.get $bv)))
            (local.set $xr (i32.add (local.get $xr) (i32.shl (local.get $I) (i32.const 1))))
            (local.set $yr (i32.add (local.get $yr) (i32.shl (local.get $Ob) (i32.const 1))))
            (local.set $bi (i32.add (local.get $bi) (i32.const 2)))
            (br $rows2)))
        ;; the odd last row (every row when B = 1)
        (if (i32.lt_s (local.get $bi) (local.get $B))
          (then
            (v128.store (local.get $yr)
              (i32x4.add (call $dot_i8_1x4 (local.get $xr) (local.get $wr) (local.get $I)) (local.get $bv)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $wr (i32.add (local.get $wr) (i32.shl (local.get $I) (i32.const 2))))
        (br $o4)))
    ;; the last O % 4 outputs, one dot product per row
    (block $e1
      (loop $o1
        (br_if $e1 (i32.ge_s (local.get $o) (local.get $O)))
        (local.set $bs (i32.const 0))
        (if (local.get $hasB)
          (then (local.set $bs (i32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))))
        (local.set $xr (local.get $x))
        (local.set $yr (i32.add (local.get $y) (i32.shl (local.get $o) (i32.const 2))))
        (local.set $bi (i32.const 0))
        (block $eb
          (loop $rows1
            (br_if $eb (i32.ge_s (local.get $bi) (local.get $B)))
            (local.set $s (call $dot_i8_1 (local.get $xr) (local.get $wr) (local.get $I)))
            (i32.store (local.get $yr) (i32.add (local.get $s) (local.get $bs)))
            (local.set $xr (i32.add (local.get $xr) (local.get $I)))
            (local.set $yr (i32.add (local.get $yr) (local.get $Ob)))
            (local.set $bi (i32.add (local.get $bi) (i32.const 1)))
            (br $rows1)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $wr (i32.add (local.get $wr) (local.get $I)))
        (br $o1)))
  )

  ;; ---------------------------------------------------------------- int8 requantization
  ;; y_q[r, o] = clamp(yZero + MultiplyByQuantizedMultiplier(acc[r, o], mult[o], shift[o]),
  ;;                   actMin, actMax), stored as one byte (int8 or uint8 code: the same store8).
  ;; Bit-exact twin of runtime/ops/int8-op.ts int8RequantizeRows and, through it, of TFLite's
  ;; gemmlowp double rounding (runtime/quant/int8.ts multiplyByQuantizedMultiplier):
  ;;   SaturatingRoundingDoublingHighMul in i64: (a*b + nudge) / 2^31 truncated toward zero,
  ;;   nudge 2^30 when a*b >= 0 else 1 - 2^30, INT32_MIN * INT32_MIN saturating to INT32_MAX;
  ;;   RoundingDivideByPOT: half away from zero.
  ;; y: byte index; acc, rq: Int32Array indices; rq holds (O each) weight zero points, multipliers,
  ;; shifts, folded biases: multiplier of o at rq + O + o, shift at rq + 2O + o.
  (func (export "requantize_int8")
        (param $y i32) (param $acc i32) (param $rq i32) (param $rows i32) (param $O i32)
        (param $yZero i32) (param $actMin i32) (param $actMax i32)
    (local $r i32) (local $o i32) (local $ma i32) (local $sa i32) (local $x i32) (local $m i32)
    (local $sh i32) (local $left i32) (local $right i32) (local $ab i64) (local $hi i32)
    (local $mask i32) (local $rem i32) (local $thr i32) (local $q i32)
    (local.set $acc (i32.shl (local.get $acc) (i32.const 2)))
    (local.set $ma (i32.shl (i32.add (local.get $rq) (local.get $O)) (i32.const 2)))
    (local.set $sa (i32.add (local.get $ma) (i32.shl (local.get $O) (i32.const 2))))
    (block $endr
      (loop $rowsl
        (br_if $endr (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $o (i32.const 0))
        (block $endo
          (loop $outs
            (br_if $endo (i32.ge_s (local.get $o) (local.get $O)))
            (local.set $m (i32.load (i32.add (local.get $ma) (i32.shl (local.get $o) (i32.const 2)))))
            (local.set $sh (i32.load (i32.add (local.get $sa) (i32.shl (local.get $o) (i32.const 2)))))
            (local.set $left (select (local.get $sh) (i32.const 0) (i32.gt_s (local.get $sh) (i32.const 0))))
            (local.set $right (select (i32.const 0) (i32.sub (i32.const 0) (local.get $sh)) (i32.gt_s (local.get $sh) (i32.const 0))))
            ;; x << left, wrapping like Math.imul(x, 1 << left)
            (local.set $x (i32.shl (i32.load (local.get $acc)) (local.get $left)))
            (if (i32.and (i32.eq (local.get $x) (i32.const 0x80000000)) (i32.eq (local.get $m) (i32.const 0x80000000)))
              (then (local.set $hi (i32.const 0x7fffffff)))
              (else
                (local.set $ab (i64.mul (i64.extend_i32_s (local.get $x)) (i64.extend_i32_s (local.get $m))))
                (local.set $hi (i32.wrap_i64 (i64.div_s
                  (i64.add (local.get $ab)
                    (select (i64.const 1073741824) (i64.const -1073741823) (i64.ge_s (local.get $ab) (i64.const 0))))
                  (i64.const 2147483648))))))
            ;; rounding divide by 2^right, half away from zero
            (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $right)) (i32.const 1)))
            (local.set $rem (i32.and (local.get $hi) (local.get $mask)))
            (local.set $thr (i32.add (i32.shr_s (local.get $mask) (i32.const 1)) (i32.lt_s (local.get $hi) (i32.const 0))))
            (local.set $q (i32.add (local.get $yZero)
              (i32.add (i32.shr_s (local.get $hi) (local.get $right)) (i32.gt_s (local.get $rem) (local.get $thr)))))
            (local.set $q (select (local.get $actMin) (local.get $q) (i32.lt_s (local.get $q) (local.get $actMin))))
            (local.set $q (select (local.get $actMax) (local.get $q) (i32.gt_s (local.get $q) (local.get $actMax))))
            (i32.store8 (local.get $y) (local.get $q))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br $outs)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsl))))

  ;; ---------------------------------------------------------------- int8 quantization
  ;; q[i] = clamp(round_half_even(x[i] * inv or x[i] / scale) + zp, qmin, qmax), NaN -> zp, stored
  ;; as one byte (int8 or uint8 code). Bit-exact twin of runtime/quant/int8.ts quantizeForward
  ;; (per tensor): its float32 product / quotient is the correctly rounded f32 one (double
  ;; rounding through a double is exact for * and /), f32x4.nearest is round half to even, and the
  ;; clamp to +-2^30 before the integer conversion keeps +-Inf and huge values from wrapping.
  ;; q: byte index; x, qp: Float32Array indices (qp: [scale, zero point]); onnx: 1 divides by the
  ;; scale (ONNX QuantizeLinear), 0 multiplies by float32(1 / scale) (PyTorch).
  (func (export "quantize_int8")
        (param $q i32) (param $x i32) (param $qp i32) (param $n i32) (param $qmin i32) (param $qmax i32)
        (param $onnx i32)
    (local $i i32) (local $s f32) (local $inv f32) (local $zp i32) (local $t f32) (local $v i32)
    (local $sv v128) (local $iv v128) (local $zv v128) (local $lo v128) (local $hi v128)
    (local $big v128) (local $nbig v128) (local $tv v128) (local $n4 i32)
    (local.set $x (i32.shl (local.get $x) (i32.const 2)))
    (local.set $qp (i32.shl (local.get $qp) (i32.const 2)))
    (local.set $s (f32.load (local.get $qp)))
    (local.set $inv (f32.div (f32.const 1) (local.get $s)))
    (local.set $zp (i32.trunc_sat_f32_s (f32.load offset=4 (local.get $qp))))
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $iv (f32x4.splat (local.get $inv)))
    (local.set $zv (i32x4.splat (local.get $zp)))
    (local.set $lo (i32x4.splat (local.get $qmin)))
    (local.set $hi (i32x4.splat (local.get $qmax)))
    (local.set $big (f32x4.splat (f32.const 1073741824)))
    (local.set $nbig (f32x4.splat (f32.const -1073741824)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $end4
      (loop $l4
        (br_if $end4 (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $tv (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $tv (if (result v128) (local.get $onnx)
          (then (f32x4.div (local.get $tv) (local.get $sv)))
          (else (f32x4.mul (local.get $tv) (local.get $iv)))))
        (local.set $tv (f32x4.min (f32x4.max (f32x4.nearest (local.get $tv)) (local.get $nbig)) (local.get $big)))
        (local.set $tv (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $tv)) (local.get $zv)))
        (local.set $tv (i32x4.min_s (i32x4.max_s (local.get $tv) (local.get $lo)) (local.get $hi)))
        (i32.store8 (i32.add (local.get $q) (local.get $i)) (i32x4.extract_lane 0 (local.get $tv)))
        (i32.store8 offset=1 (i32.add (local.get $q) (local.get $i)) (i32x4.extract_lane 1 (local.get $tv)))
        (i32.store8 offset=2 (i32.add (local.get $q) (local.get $i)) (i32x4.extract_lane 2 (local.get $tv)))
        (i32.store8 offset=3 (i32.add (local.get $q) (local.get $i)) (i32x4.extract_lane 3 (local.get $tv)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l4)))
    (block $end1
      (loop $l1
        (br_if $end1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $t (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $t (if (result f32) (local.get $onnx)
          (then (f32.div (local.get $t) (local.get $s)))
          (else (f32.mul (local.get $t) (local.get $inv)))))
        (local.set $t (f32.min (f32.max (f32.nearest (local.get $t)) (f32.const -1073741824)) (f32.const 1073741824)))
        (local.set $v (i32.add (i32.trunc_sat_f32_s (local.get $t)) (local.get $zp)))
        (local.set $v (select (local.get $qmin) (local.get $v) (i32.lt_s (local.get $v) (local.get $qmin))))
        (local.set $v (select (local.get $qmax) (local.get $v) (i32.gt_s (local.get $v) (local.get $qmax))))
        (i32.store8 (i32.add (local.get $q) (local.get $i)) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l1))))
)
