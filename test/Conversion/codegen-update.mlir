// dl-codegen-update (docs/training.md, docs/codegen.md): the update of a
// Caffe solver, one function per module for its type and regularization,
// with the signature of dlc/Ops/SolverUpdate.h; the coefficients are read
// from the array once per call. Explicit vector-width and unroll keep the
// output independent of this CPU.
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// RUN: dl-opt %s -dl-codegen-update='solver=adam vector-width=4 unroll=2' | FileCheck %s --check-prefix=ADAM
// RUN: dl-opt %s -dl-codegen-update='solver=sgd regularization=L1 vector-width=4 unroll=2' | FileCheck %s --check-prefix=SGDL1
// RUN: dl-opt %s -dl-codegen-update='solver=rmsprop vector-width=4 unroll=2' | dl-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: dl-opt %s -dl-codegen-update='solver=nesterov vector-width=4 unroll=2' -dl-codegen-compile | FileCheck %s --check-prefix=NATIVE
// Without a solver the pass does nothing.
// RUN: dl-opt %s -dl-codegen-update | FileCheck %s --check-prefix=NONE
// RUN: not dl-opt %s -dl-codegen-update='solver=lbfgs' 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: not dl-opt %s -dl-codegen-update='solver=sgd regularization=L3' 2>&1 | FileCheck %s --check-prefix=REG
// RUN: not dl-opt %s -dl-codegen-update='solver=sgd vector-width=6' 2>&1 | FileCheck %s --check-prefix=WIDTH

// ADAM: module attributes {dl.codegen_update = "dlc_update_adam_l2"}
// ADAM: module @dl_codegen attributes {dl.codegen_kernels}
// w, grad, h, h2, the coefficients, begin, end.
// ADAM: func.func @dlc_update_adam_l2(%[[W:.*]]: !llvm.ptr, %[[G:.*]]: !llvm.ptr, %[[H:.*]]: !llvm.ptr, %[[H2:.*]]: !llvm.ptr, %[[C:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// The seven coefficients, loaded once before the loops.
// ADAM-COUNT-7: llvm.load {{.*}} : !llvm.ptr -> f32
// ADAM: scf.for %{{.*}} = %[[BEGIN]] to %{{.*}} step %c8_i64
// L2 decay: g = grad * scale + decay * w.
// ADAM: %[[WV:.*]] = llvm.load {{.*}} -> vector<8xf32>
// ADAM: %[[GV:.*]] = llvm.load {{.*}} -> vector<8xf32>
// ADAM: %[[GS:.*]] = arith.mulf %[[GV]]
// ADAM: %[[DW:.*]] = arith.mulf %{{.*}}, %[[WV]]
// ADAM: arith.addf %[[GS]], %[[DW]]
// Both moments stored, then w -= rate * h / (sqrt(h2) + delta).
// ADAM: llvm.store {{.*}} : vector<8xf32>, !llvm.ptr
// ADAM: llvm.store {{.*}} : vector<8xf32>, !llvm.ptr
// ADAM: math.sqrt %{{.*}} : vector<8xf32>
// ADAM: llvm.store {{.*}} : vector<8xf32>, !llvm.ptr
// ADAM-NOT: llvm.store {{.*}} : vector<8xf32>
// ADAM: scf.for {{.*}} step %c4_i64
// ADAM: scf.for {{.*}} step %c1_i64
// ADAM-NOT: func.func

// SGD with L1 decay: sign(w) from two comparisons, no square root.
// SGDL1: module attributes {dl.codegen_update = "dlc_update_sgd_l1"}
// SGDL1: func.func @dlc_update_sgd_l1(
// SGDL1: arith.cmpf olt, %{{.*}}, %{{.*}} : vector<8xf32>
// SGDL1: arith.cmpf olt
// SGDL1-NOT: math.sqrt
// SGDL1: return

// ROUNDTRIP: func.func @dlc_update_rmsprop_l2(

// NATIVE: dl.codegen_update = "dlc_update_nesterov_l2"
// NATIVE-SAME: dl.native_code = {cpu = "{{.*}}", features = [{{.*}}], object = "{{.*}}", symbols = ["dlc_update_nesterov_l2"], triple
// NATIVE-NOT: dl_codegen

// NONE: module {
// NONE-NEXT: }

// TYPE: error: dl-codegen-update: unknown solver 'lbfgs' (sgd, nesterov, adagrad, rmsprop, adadelta or adam)
// REG: error: dl-codegen-update: regularization must be L2 or L1, got 'L3'
// WIDTH: error: dl-codegen-update: vector-width must be a power of two up to 64 and unroll at most 16, got 6 and

module {
}
