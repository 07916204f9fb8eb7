#!/usr/bin/env python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes models/alexnet.prototxt, alexnet-s.prototxt and alexnet-r.prototxt.

Usage: python3 models/gen/alexnets.py [output-dir]   (default: models/)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netgen import (header, input_layer, conv, inner_product, simple, pool,  # noqa: E402
                    write)

LICENSE = "Written for dlc; part of the dlc project (Apache-2.0 WITH LLVM-exception)."
G01 = {"type": "gaussian", "std": 0.01}
G005 = {"type": "gaussian", "std": 0.005}
B0 = {"type": "constant", "value": 0}
B01 = {"type": "constant", "value": 0.1}
PARAMS = [{"lr_mult": 1, "decay_mult": 1}, {"lr_mult": 2, "decay_mult": 0}]


def imagenet_alexnet(lrn, dropout, group, conv1_pad):
    """AlexNet's layer sequence in the order of Caffe's bvlc_alexnet
    (conv, ReLU, LRN, pool). lrn/dropout switch those layers, group is used
    on conv2/4/5."""
    t = ""
    t += conv("conv1", "data", "conv1", 96, 11, stride=4, pad=conv1_pad,
              weight_filler=G01, bias_filler=B0, params=PARAMS)
    t += simple("relu1", "ReLU", "conv1", "conv1")
    prev = "conv1"
    if lrn:
        t += simple("norm1", "LRN", "conv1", "norm1",
                    ["lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"])
        prev = "norm1"
    t += pool("pool1", prev, "pool1", "MAX", 3, 2)
    t += conv("conv2", "pool1", "conv2", 256, 5, pad=2, group=group,
              weight_filler=G01, bias_filler=B01, params=PARAMS)
    t += simple("relu2", "ReLU", "conv2", "conv2")
    prev = "conv2"
    if lrn:
        t += simple("norm2", "LRN", "conv2", "norm2",
                    ["lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }"])
        prev = "norm2"
    t += pool("pool2", prev, "pool2", "MAX", 3, 2)
    t += conv("conv3", "pool2", "conv3", 384, 3, pad=1,
              weight_filler=G01, bias_filler=B0, params=PARAMS)
    t += simple("relu3", "ReLU", "conv3", "conv3")
    t += conv("conv4", "conv3", "conv4", 384, 3, pad=1, group=group,
              weight_filler=G01, bias_filler=B01, params=PARAMS)
    t += simple("relu4", "ReLU", "conv4", "conv4")
    t += conv("conv5", "conv4", "conv5", 256, 3, pad=1, group=group,
              weight_filler=G01, bias_filler=B01, params=PARAMS)
    t += simple("relu5", "ReLU", "conv5", "conv5")
    t += pool("pool5", "conv5", "pool5", "MAX", 3, 2)
    t += inner_product("fc6", "pool5", "fc6", 4096, weight_filler=G005,
                       bias_filler=B01, params=PARAMS)
    t += simple("relu6", "ReLU", "fc6", "fc6")
    if dropout:
        t += simple("drop6", "Dropout", "fc6", "fc6",
                    ["dropout_param { dropout_ratio: 0.5 }"])
    t += inner_product("fc7", "fc6", "fc7", 4096, weight_filler=G005,
                       bias_filler=B01, params=PARAMS)
    t += simple("relu7", "ReLU", "fc7", "fc7")
    if dropout:
        t += simple("drop7", "Dropout", "fc7", "fc7",
                    ["dropout_param { dropout_ratio: 0.5 }"])
    t += inner_product("fc8", "fc7", "fc8", 1000, weight_filler=G01,
                       bias_filler=B0, params=PARAMS)
    t += simple("prob", "Softmax", "fc8", "prob")
    return t


def alexnet():
    h = header([
        "AlexNet on ImageNet, batch 256 (Bahrampour et al. 2015, \"Comparative Study of Deep",
        "Learning Software Frameworks\"; the layers of Caffe's bvlc_alexnet):",
        "conv1 96 11x11/4, ReLU, LRN, max-pool 3/2;",
        "conv2 256 5x5 pad 2 group 2, ReLU, LRN, max-pool 3/2; conv3 384 3x3 pad 1;",
        "conv4 384 3x3 pad 1 group 2; conv5 256 3x3 pad 1 group 2, max-pool 3/2;",
        "fc6 4096 and fc7 4096, each ReLU + Dropout 0.5; fc8 1000; softmax.",
        "The paper speaks of 224x224 crops; the input here is 3x227x227, the crop",
        "of Caffe's bvlc_alexnet data layer (crop_size 227), the net the paper",
        "names: conv1 has no padding in that net, and (227 - 11)/4 + 1",
        "= 55 gives Krizhevsky et al.'s 55x55 conv1 map (224 would give 54x54;",
        "Caffe's ceil-mode pool1 then still reaches 27x27, but conv1 would do",
        "less work than in the measured net).",
        "Fillers and lr/decay multipliers as in bvlc_alexnet's train_val.",
        "The paper trains with a softmax loss; this is the deploy form (Softmax",
        "output, no label); the loss for training is added by dlc (--loss auto).",
        "Batch 256 as in the paper; override with --batch.",
        LICENSE,
    ], "AlexNet")
    h += input_layer(["data"], [[256, 3, 227, 227]])
    return h + imagenet_alexnet(lrn=True, dropout=True, group=2, conv1_pad=0)


def alexnet_s():
    h = header([
        "AlexNet-S (Shi et al. 2016, \"Benchmarking State-of-the-Art Deep Learning",
        "Software Tools\"): ImageNet AlexNet without LRN and without dropout, on",
        "synthetic 224x224x3 images, CPU batch 16.",
        "Reading chosen: bvlc_alexnet's layer sizes with group 1 everywhere (the",
        "paper's single-tower net), LRN and Dropout layers removed. For a 224x224",
        "input conv1 (96 11x11 stride 4) gets pad 2: (224 + 4 - 11)/4 + 1 = 55,",
        "so every later map has AlexNet's size: pool1 27, conv2 (5x5 pad 2) 27,",
        "pool2 13, conv3-5 (3x3 pad 1) 13, pool5 6, fc6 input 256*6*6 = 9216.",
        "fc6 4096, fc7 4096 (ReLU), fc8 1000, softmax output (deploy form, no",
        "loss layer). Fillers as in bvlc_alexnet. Batch 16; override with --batch.",
        LICENSE,
    ], "AlexNet-S")
    h += input_layer(["data"], [[16, 3, 224, 224]])
    return h + imagenet_alexnet(lrn=False, dropout=False, group=1, conv1_pad=2)


def alexnet_r():
    c1 = {"type": "gaussian", "std": 0.0001}
    p_ip = [{"lr_mult": 1, "decay_mult": 250}, {"lr_mult": 2, "decay_mult": 0}]
    p = [{"lr_mult": 1}, {"lr_mult": 2}]
    t = header([
        "AlexNet-R (Shi et al. 2016, \"Benchmarking State-of-the-Art Deep Learning",
        "Software Tools\"): Krizhevsky's CIFAR-10 network (cuda-convnet's 18%",
        "layers, Caffe's examples/cifar10 cifar10_full) without the LRN layers,",
        "on 32x32x3 CIFAR-10 images, batch 128 (the paper's Table 9; its CPU",
        "table note mentions 1024 - use --batch 1024 for that).",
        "Layers (cifar10_full order, LRN removed): conv1 32 5x5 pad 2, max-pool",
        "3/2, ReLU; conv2 32 5x5 pad 2, ReLU, ave-pool 3/2; conv3 64 5x5 pad 2,",
        "ReLU, ave-pool 3/2; ip1 10; softmax. Maps: 32 -> 16 -> 8 -> 4 (Caffe's",
        "ceil pooling), ip1 input 64*4*4 = 1024. Fillers and multipliers as in",
        "cifar10_full. Deploy form: Softmax output, no loss layer.",
        LICENSE,
    ], "AlexNet-R")
    t += input_layer(["data"], [[128, 3, 32, 32]])
    t += conv("conv1", "data", "conv1", 32, 5, pad=2, weight_filler=c1,
              params=p)
    t += pool("pool1", "conv1", "pool1", "MAX", 3, 2)
    t += simple("relu1", "ReLU", "pool1", "pool1")
    t += conv("conv2", "pool1", "conv2", 32, 5, pad=2, weight_filler=G01,
              params=p)
    t += simple("relu2", "ReLU", "conv2", "conv2")
    t += pool("pool2", "conv2", "pool2", "AVE", 3, 2)
    t += conv("conv3", "pool2", "conv3", 64, 5, pad=2, weight_filler=G01,
              params=p)
    t += simple("relu3", "ReLU", "conv3", "conv3")
    t += pool("pool3", "conv3", "pool3", "AVE", 3, 2)
    t += inner_product("ip1", "pool3", "ip1", 10, weight_filler=G01,
                       params=p_ip)
    t += simple("prob", "Softmax", "ip1", "prob")
    return t


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    write(os.path.join(out, "alexnet.prototxt"), alexnet())
    write(os.path.join(out, "alexnet-s.prototxt"), alexnet_s())
    write(os.path.join(out, "alexnet-r.prototxt"), alexnet_r())


if __name__ == "__main__":
    main()
