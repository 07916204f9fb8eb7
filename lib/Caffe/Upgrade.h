//===- Upgrade.h - Upgrade legacy Caffe nets ---------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Caffe: the rewrites Caffe applies when it reads an old net
// (UpgradeV1Net, UpgradeNetDataTransformation, UpgradeNetBatchNorm).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_CAFFE_UPGRADE_H
#define DLC_LIB_CAFFE_UPGRADE_H

#include "dlc/Caffe/caffe.pb.h"

#include <string>

namespace dlc::caffe_fe::detail {

/// The V2 type string of a V1 layer type ("" for NONE).
std::string v1LayerTypeName(caffe::V1LayerParameter::LayerType type);

/// Moves the deprecated preprocessing fields (scale, mean_file, crop_size,
/// mirror) of a V1 DATA / IMAGE_DATA / WINDOW_DATA layer's *_param into its
/// transform_param, as Caffe's UpgradeNetDataTransformation does.
void upgradeV1DataTransformation(caffe::V1LayerParameter &layer);

/// Converts one V1 layer to a V2 layer (Caffe's UpgradeV1LayerParameter).
/// Returns false, with `error` set, for a layer that cannot be converted
/// (a V0 layer nested in it).
bool upgradeV1Layer(const caffe::V1LayerParameter &v1, caffe::LayerParameter &out,
                    std::string &error);

/// Caffe's UpgradeNetBatchNorm: BatchNorm's three statistics blobs are not
/// learned, so a BatchNorm layer with three param entries gets lr_mult and
/// decay_mult 0 in each (names and share modes are kept).
/// Returns true when a layer was changed.
bool upgradeBatchNormParams(caffe::LayerParameter &layer);

} // namespace dlc::caffe_fe::detail

#endif // DLC_LIB_CAFFE_UPGRADE_H
