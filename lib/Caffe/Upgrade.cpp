//===- Upgrade.cpp - Upgrade legacy Caffe nets ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Upgrade.h"

namespace dlc::caffe_fe::detail {

using caffe::V1LayerParameter;

std::string v1LayerTypeName(V1LayerParameter::LayerType type) {
  switch (type) {
  case V1LayerParameter::NONE: return "";
  case V1LayerParameter::ABSVAL: return "AbsVal";
  case V1LayerParameter::ACCURACY: return "Accuracy";
  case V1LayerParameter::ARGMAX: return "ArgMax";
  case V1LayerParameter::BNLL: return "BNLL";
  case V1LayerParameter::CONCAT: return "Concat";
  case V1LayerParameter::CONTRASTIVE_LOSS: return "ContrastiveLoss";
  case V1LayerParameter::CONVOLUTION: return "Convolution";
  case V1LayerParameter::DATA: return "Data";
  case V1LayerParameter::DECONVOLUTION: return "Deconvolution";
  case V1LayerParameter::DROPOUT: return "Dropout";
  case V1LayerParameter::DUMMY_DATA: return "DummyData";
  case V1LayerParameter::EUCLIDEAN_LOSS: return "EuclideanLoss";
  case V1LayerParameter::ELTWISE: return "Eltwise";
  case V1LayerParameter::EXP: return "Exp";
  case V1LayerParameter::FLATTEN: return "Flatten";
  case V1LayerParameter::HDF5_DATA: return "HDF5Data";
  case V1LayerParameter::HDF5_OUTPUT: return "HDF5Output";
  case V1LayerParameter::HINGE_LOSS: return "HingeLoss";
  case V1LayerParameter::IM2COL: return "Im2col";
  case V1LayerParameter::IMAGE_DATA: return "ImageData";
  case V1LayerParameter::INFOGAIN_LOSS: return "InfogainLoss";
  case V1LayerParameter::INNER_PRODUCT: return "InnerProduct";
  case V1LayerParameter::LRN: return "LRN";
  case V1LayerParameter::MEMORY_DATA: return "MemoryData";
  case V1LayerParameter::MULTINOMIAL_LOGISTIC_LOSS: return "MultinomialLogisticLoss";
  case V1LayerParameter::MVN: return "MVN";
  case V1LayerParameter::POOLING: return "Pooling";
  case V1LayerParameter::POWER: return "Power";
  case V1LayerParameter::RELU: return "ReLU";
  case V1LayerParameter::SIGMOID: return "Sigmoid";
  case V1LayerParameter::SIGMOID_CROSS_ENTROPY_LOSS: return "SigmoidCrossEntropyLoss";
  case V1LayerParameter::SILENCE: return "Silence";
  case V1LayerParameter::SOFTMAX: return "Softmax";
  case V1LayerParameter::SOFTMAX_LOSS: return "SoftmaxWithLoss";
  case V1LayerParameter::SPLIT: return "Split";
  case V1LayerParameter::SLICE: return "Slice";
  case V1LayerParameter::TANH: return "TanH";
  case V1LayerParameter::WINDOW_DATA: return "WindowData";
  case V1LayerParameter::THRESHOLD: return "Threshold";
  }
  return "";
}

namespace {
/// Moves the legacy preprocessing fields of one data-layer parameter message
/// (DataParameter, ImageDataParameter or WindowDataParameter).
template <typename P>
void moveTransform(P *param, caffe::TransformationParameter *transform) {
  if (param->has_scale()) {
    transform->set_scale(param->scale());
    param->clear_scale();
  }
  if (param->has_mean_file()) {
    transform->set_mean_file(param->mean_file());
    param->clear_mean_file();
  }
  if (param->has_crop_size()) {
    transform->set_crop_size(param->crop_size());
    param->clear_crop_size();
  }
  if (param->has_mirror()) {
    transform->set_mirror(param->mirror());
    param->clear_mirror();
  }
}
} // namespace

void upgradeV1DataTransformation(V1LayerParameter &layer) {
  switch (layer.type()) {
  case V1LayerParameter::DATA:
    if (layer.has_data_param())
      moveTransform(layer.mutable_data_param(), layer.mutable_transform_param());
    break;
  case V1LayerParameter::IMAGE_DATA:
    if (layer.has_image_data_param())
      moveTransform(layer.mutable_image_data_param(), layer.mutable_transform_param());
    break;
  case V1LayerParameter::WINDOW_DATA:
    if (layer.has_window_data_param())
      moveTransform(layer.mutable_window_data_param(), layer.mutable_transform_param());
    break;
  default:
    break;
  }
}

bool upgradeV1Layer(const V1LayerParameter &v1, caffe::LayerParameter &out, std::string &error) {
  out.Clear();
  if (v1.has_layer()) {
    error = "V0 nets are not supported: layer '" + v1.layer().name() +
            "' is in the V0 format (a 'layer' block inside 'layers'); upgrade the net with "
            "Caffe's upgrade_net_proto_text tool";
    return false;
  }
  for (const std::string &b : v1.bottom())
    out.add_bottom(b);
  for (const std::string &t : v1.top())
    out.add_top(t);
  if (v1.has_name())
    out.set_name(v1.name());
  for (const caffe::NetStateRule &r : v1.include())
    *out.add_include() = r;
  for (const caffe::NetStateRule &r : v1.exclude())
    *out.add_exclude() = r;
  if (v1.has_type())
    out.set_type(v1LayerTypeName(v1.type()));
  for (const caffe::BlobProto &b : v1.blobs())
    *out.add_blobs() = b;

  // Per-blob settings: names, share modes, lr and decay multipliers each fill
  // the param entries in order.
  auto paramAt = [&out](int i) {
    while (out.param_size() <= i)
      out.add_param();
    return out.mutable_param(i);
  };
  for (int i = 0; i < v1.param_size(); ++i)
    paramAt(i)->set_name(v1.param(i));
  for (int i = 0; i < v1.blob_share_mode_size(); ++i) {
    caffe::ParamSpec::DimCheckMode mode = v1.blob_share_mode(i) == V1LayerParameter::PERMISSIVE
                                              ? caffe::ParamSpec::PERMISSIVE
                                              : caffe::ParamSpec::STRICT;
    paramAt(i)->set_share_mode(mode);
  }
  for (int i = 0; i < v1.blobs_lr_size(); ++i)
    paramAt(i)->set_lr_mult(v1.blobs_lr(i));
  for (int i = 0; i < v1.weight_decay_size(); ++i)
    paramAt(i)->set_decay_mult(v1.weight_decay(i));
  for (float w : v1.loss_weight())
    out.add_loss_weight(w);

#define DLC_COPY_PARAM(NAME)                                                                       \
  if (v1.has_##NAME())                                                                             \
  *out.mutable_##NAME() = v1.NAME()
  DLC_COPY_PARAM(accuracy_param);
  DLC_COPY_PARAM(argmax_param);
  DLC_COPY_PARAM(concat_param);
  DLC_COPY_PARAM(contrastive_loss_param);
  DLC_COPY_PARAM(convolution_param);
  DLC_COPY_PARAM(data_param);
  DLC_COPY_PARAM(dropout_param);
  DLC_COPY_PARAM(dummy_data_param);
  DLC_COPY_PARAM(eltwise_param);
  DLC_COPY_PARAM(exp_param);
  DLC_COPY_PARAM(hdf5_data_param);
  DLC_COPY_PARAM(hdf5_output_param);
  DLC_COPY_PARAM(hinge_loss_param);
  DLC_COPY_PARAM(image_data_param);
  DLC_COPY_PARAM(infogain_loss_param);
  DLC_COPY_PARAM(inner_product_param);
  DLC_COPY_PARAM(lrn_param);
  DLC_COPY_PARAM(memory_data_param);
  DLC_COPY_PARAM(mvn_param);
  DLC_COPY_PARAM(pooling_param);
  DLC_COPY_PARAM(power_param);
  DLC_COPY_PARAM(relu_param);
  DLC_COPY_PARAM(sigmoid_param);
  DLC_COPY_PARAM(softmax_param);
  DLC_COPY_PARAM(slice_param);
  DLC_COPY_PARAM(tanh_param);
  DLC_COPY_PARAM(threshold_param);
  DLC_COPY_PARAM(window_data_param);
  DLC_COPY_PARAM(transform_param);
  DLC_COPY_PARAM(loss_param);
#undef DLC_COPY_PARAM
  return true;
}

bool upgradeBatchNormParams(caffe::LayerParameter &layer) {
  if (layer.type() != "BatchNorm" || layer.param_size() != 3)
    return false;
  for (caffe::ParamSpec &spec : *layer.mutable_param()) {
    spec.set_lr_mult(0.f);
    spec.set_decay_mult(0.f);
  }
  return true;
}

} // namespace dlc::caffe_fe::detail
