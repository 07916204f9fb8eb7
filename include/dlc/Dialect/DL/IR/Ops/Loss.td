// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Loss family: loss layers and accuracy (rank-0 results).
// Shape rules: lib/Ops/Loss.cpp.

def DL_SoftmaxWithLossOp : DL_LayerOp<"softmax_with_loss", [DL_Loss]> {
  let summary = "Caffe SoftmaxWithLoss layer";
  let description = [{
    Caffe's `SoftmaxWithLossLayer` (softmax_loss_layer.cpp): multinomial
    logistic loss of the softmax of `logits` along `axis`. `label` holds
    `outer * inner` class indices (outer = prod(shape[:axis]),
    inner = prod(shape[axis+1:])). `normalization` is `"full"`, `"valid"`,
    `"batch_size"` or `"none"`. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$logits, DL_Label<"logits", "axis">:$label,
                       DL_I64<"1">:$axis, OptionalAttr<I64Attr>:$ignore_label,
                       DL_Enum<["full", "valid", "batch_size", "none"],
                               "valid">:$normalization,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
}

def DL_EuclideanLossOp : DL_LayerOp<"euclidean_loss", [DL_Loss]> {
  let summary = "Caffe EuclideanLoss layer";
  let description = [{
    Caffe's `EuclideanLossLayer` (euclidean_loss_layer.cpp):
    `sum((a - b)^2) / (2N)` with N = a.shape[0]; `a` and `b` have the same
    first dimension and the same count. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$a, DL_Tensor:$b, DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
}

def DL_SigmoidCrossEntropyLossOp
    : DL_LayerOp<"sigmoid_cross_entropy_loss", [DL_Loss]> {
  let summary = "Caffe SigmoidCrossEntropyLoss layer";
  let description = [{
    Caffe's `SigmoidCrossEntropyLossLayer`: cross-entropy of `sigmoid(x)`
    against `target` (same count). `normalization` defaults to this layer's
    Caffe default, `"batch_size"`. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Binary:$target,
                       DL_F64<"1.0">:$loss_weight,
                       DL_Enum<["full", "valid", "batch_size", "none"],
                               "batch_size">:$normalization,
                       OptionalAttr<I64Attr>:$ignore_label);
  let results = (outs DL_Tensor:$loss);
}

def DL_ContrastiveLossOp : DL_LayerOp<"contrastive_loss", [DL_Loss]> {
  let summary = "Caffe ContrastiveLoss layer";
  let description = [{
    Caffe's `ContrastiveLossLayer` (contrastive_loss_layer.cpp): `a` and `b`
    are `[N, C, 1, 1]` (or `[N, C]`) feature pairs, `similar` `[N, 1, 1, 1]`
    (or `[N]`, `[N, 1]`) 0/1 labels. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$a, DL_Tensor:$b, DL_Binary:$similar,
                       DL_F64<"1.0">:$margin, DL_Bool<"false">:$legacy_version,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
}

def DL_HingeLossOp : DL_LayerOp<"hinge_loss", [DL_Loss]> {
  let summary = "Caffe HingeLoss layer";
  let description = [{
    Caffe's `HingeLossLayer` (hinge_loss_layer.cpp): with x viewed as
    `[N, D]` and t = -1 at the label's position, +1 elsewhere, the loss is
    `sum(max(0, 1 + t * x)) / N` ("l1") or `sum(max(0, 1 + t * x)^2) / N`
    ("l2"). `label` holds N class indices. The result is a scalar.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Label<"x", "1+">:$label,
                       DL_Enum<["l1", "l2"], "l1">:$norm,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
}

def DL_InfogainLossOp : DL_LayerOp<"infogain_loss", [DL_Loss]> {
  let summary = "Caffe InfogainLoss layer";
  let description = [{
    Caffe's `InfogainLossLayer` (infogain_loss_layer.cpp): with p the softmax
    of `logits` along `axis` (K classes), the loss is
    `-sum_i sum_k H[label_i, k] * log(max(p_ik, 1e-20)) / normalizer` over the
    labels not equal to `ignore_label`; `infogain` is the K x K matrix H (a
    bottom, or the param the importer reads from `infogain_loss_param.source`).
    The identity H gives SoftmaxWithLoss. The result is a scalar.
  }];
  let arguments = (ins DL_Tensor:$logits, DL_Label<"logits", "axis">:$label,
                       DL_Constant:$infogain, DL_I64<"1">:$axis,
                       OptionalAttr<I64Attr>:$ignore_label,
                       DL_Enum<["full", "valid", "batch_size", "none"],
                               "valid">:$normalization,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
}

def DL_MultinomialLogisticLossOp
    : DL_LayerOp<"multinomial_logistic_loss", [DL_Loss]> {
  let summary = "Caffe MultinomialLogisticLoss layer";
  let description = [{
    Caffe's `MultinomialLogisticLossLayer`: `prob` holds probabilities
    `[N, K, ...]`; the loss is `-sum_n log(max(prob[n, label_n], 1e-20)) / N`.
    `label` is `[N]` (or `[N, 1, 1, 1]`). The result is a scalar.
  }];
  let arguments = (ins DL_Tensor:$prob, DL_Label<"prob", "1+">:$label,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
}

def DL_AccuracyOp : DL_LayerOp<"accuracy", [DL_NoGradient]> {
  let summary = "Caffe Accuracy layer";
  let description = [{
    Caffe's `AccuracyLayer` (accuracy_layer.cpp): fraction of the `label`s
    (outer * inner of them, as for SoftmaxWithLoss) found among the `top_k`
    highest `logits` along `axis`. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$logits, DL_Label<"logits", "axis">:$label,
                       DL_I64<"1">:$top_k, DL_I64<"1">:$axis,
                       OptionalAttr<I64Attr>:$ignore_label);
  let results = (outs DL_Tensor:$accuracy);
}
