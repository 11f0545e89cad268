#!/usr/bin/env python3
"""The multi-label TResNets the authors published (issue 17; docs/MULTILABEL.md): writes Zoo/multilabel.json and
Zoo/labels/coco-80.txt. Every fact is hand-written here with the page it comes from; nothing is downloaded.

    .venv/bin/python Zoo/make_multilabel.py

Checksum policy as in catalog.json (Zoo/README.md): no page states a checksum for these files, so `sha256` is null
and a first download is pinned locally by tresnet-zoo, never recorded here. Zoo/make_catalog.py merges these
entries into the catalog (Zoo/catalog.json and its Swift embedding), and Zoo/make_labels.py embeds coco-80.
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OSS = "https://miil-public-eu.oss-eu-central-1.aliyuncs.com/model-zoo/"
SRC_MLD_ZOO = "Alibaba-MIIL/ML_Decoder MODEL_ZOO.md (@12a67d98)"
SRC_MLD_CODE = ("Alibaba-MIIL/ML_Decoder src_files/ml_decoder/ml_decoder.py (head definition, groups default "
                "min(100, classes)) and src_files/models/utils/factory.py (tresnet_m, tresnet_l only)")
SRC_MLD_INFER = "Alibaba-MIIL/ML_Decoder infer.py / MODEL_ZOO.md (threshold 0.75 COCO, 0.97 OpenImages; top 20)"
SRC_ASL_ZOO = "Alibaba-MIIL/ASL MODEL_ZOO.md (@05a005d6)"
SRC_ASL_README = "Alibaba-MIIL/ASL README.md (validate/infer commands; OpenImages file name)"
SRC_ASL_M = ("file name of model-zoo/ASL/MS_COCO_TRresNet_M_224_81.8.pth as cited by several public repositories "
             "(ImageNet-21K-pretrained TResNet-M fine-tuned on MS-COCO); not listed in ASL's MODEL_ZOO.md")

# The 80 MS-COCO category names in category-id order (ids 1..90 with ten gaps), the order the ML-Decoder and ASL
# COCO loaders number classes.
COCO80 = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
          "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
          "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
          "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
          "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
          "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
          "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
          "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
          "teddy bear", "hair drier", "toothbrush"]
COCO80_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def entry(tag, publisher, arch, head, dataset, classes, size, reported_map, path, threshold, sources, groups=None,
          label_set=None, note=None):
    return dict(
        tag=tag, publisher=publisher, architecture=arch, head=head, dataset=dataset, num_classes=classes,
        groups=groups, label_set=label_set, input_size=size, reported_map=reported_map, threshold=threshold,
        preprocessing=dict(mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0], scale="rgb/255", crop_pct=1.0,
                           crop_mode="squash", interpolation="bilinear",
                           description=f"resize to {size}x{size} (aspect ratio not kept), no crop, no mean/std"),
        files=[dict(name=path.rsplit("/", 1)[1], url=OSS + path, format="pytorch", naming="miil",
                    wrapper="model", class_names="idx_to_class", status="unverified", sha256=None,
                    sha256_source=None)],
        note=note, sources=sources)


def main():
    mld = dict(reported_map=SRC_MLD_ZOO, url=SRC_MLD_ZOO, head=SRC_MLD_CODE, threshold=SRC_MLD_INFER,
               preprocessing="ML_Decoder validate.py / infer.py: Resize((size, size)), ToTensor, no Normalize")
    asl = dict(reported_map=SRC_ASL_ZOO, url=SRC_ASL_ZOO,
               threshold="ASL helper parse_args defaults: th 0.7, OpenImages 0.995", head="plain TResNet head.fc",
               preprocessing="ASL validate.py / infer.py: Resize((size, size)), ToTensor, no Normalize")
    entries = [
        entry("ml_decoder/tresnet_m_coco_224", "Alibaba-MIIL", "tresnet_m", "ml_decoder", "ms-coco-2014", 80, 224,
              84.2, "ML_Decoder/tresnet_m_COCO_224_84_2.pth", 0.75, mld, groups=80, label_set="coco-80"),
        entry("ml_decoder/tresnet_l_coco_448", "Alibaba-MIIL", "tresnet_v2_l", "ml_decoder", "ms-coco-2014", 80, 448,
              90.0, "ML_Decoder/tresnet_l_COCO__448_90_0.pth", 0.75, mld, groups=80, label_set="coco-80",
              note="that repository's 'tresnet_l' builds the v2 layout (Bottlenecks everywhere, layers [3, 4, 23, 3])"),
        entry("ml_decoder/tresnet_xl_coco_640", "Alibaba-MIIL", "tresnet_xl", "ml_decoder", "ms-coco-2014", 80, 640,
              91.4, "ML_Decoder/tresnet_xl_COCO_640_91_4.pth", 0.75, mld, groups=80, label_set="coco-80",
              note="the repository's factory builds tresnet_m and tresnet_l only; the body's layout is read off the "
                   "tensors at conversion"),
        entry("ml_decoder/tresnet_m_openimages_224", "Alibaba-MIIL", "tresnet_m", "ml_decoder", "openimages-v6", 9605,
              224, 86.8, "ML_Decoder/tresnet_m_open_images_200_groups_86_8.pth", 0.97, mld, groups=200,
              note="class names come from the checkpoint's idx_to_class"),
        entry("asl/tresnet_l_coco_448", "Alibaba-MIIL", "tresnet_l", "fc", "ms-coco-2014", 80, 448, 86.6,
              "ASL/MS_COCO_TRresNet_L_448_86.6.pth", 0.7, asl, label_set="coco-80"),
        entry("asl/tresnet_xl_coco_640", "Alibaba-MIIL", "tresnet_xl", "fc", "ms-coco-2014", 80, 640, 88.4,
              "ASL/MS_COCO_TResNet_xl_640_88.4.pth", 0.7, asl, label_set="coco-80"),
        entry("asl/tresnet_m_coco_224", "Alibaba-MIIL", "tresnet_m", "fc", "ms-coco-2014", 80, 224, 81.8,
              "ASL/MS_COCO_TRresNet_M_224_81.8.pth", 0.7, dict(asl, reported_map=SRC_ASL_M, url=SRC_ASL_M),
              label_set="coco-80"),
        entry("asl/tresnet_l_openimages_448", "Alibaba-MIIL", "tresnet_l", "fc", "openimages-v6", 9605, 448, None,
              "ASL/Open_ImagesV6_TRresNet_L_448.pth", 0.995, dict(asl, url=SRC_ASL_README, reported_map=None),
              note="no mAP is stated beside this file; class names come from the checkpoint's idx_to_class"),
    ]
    doc = dict(
        schema=1, generated_by="Zoo/make_multilabel.py",
        note="Pascal VOC (20 classes) and NUS-WIDE (81 classes) ASL results are reported in the ASL paper, but no "
             "checkpoint for them is linked from the ASL repository's README or MODEL_ZOO.md: no entry.",
        label_sets={"coco-80": 80}, entries=entries)
    with open(os.path.join(ROOT, "Zoo", "multilabel.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(os.path.join(ROOT, "Zoo", "labels", "coco-80.txt"), "w", encoding="utf-8") as f:
        for i, n in zip(COCO80_IDS, COCO80):
            f.write(f"{i}\t{n}\n")


if __name__ == "__main__":
    main()
