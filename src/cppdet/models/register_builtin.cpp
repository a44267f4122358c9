// Every built-in model component, registered in one place under MMDetection's type names.
// A user's own component registers the same way (see registries.h, docs/custom_modules.md).
#include "cppdet/models/backbones/resnet.h"
#include "cppdet/models/dense_heads/atss_head.h"
#include "cppdet/models/dense_heads/fcos_head.h"
#include "cppdet/models/dense_heads/gfl_head.h"
#include "cppdet/models/dense_heads/retina_head.h"
#include "cppdet/models/dense_heads/rpn_head.h"
#include "cppdet/models/detectors/single_stage.h"
#include "cppdet/models/detectors/two_stage.h"
#include "cppdet/models/losses/cross_entropy_loss.h"
#include "cppdet/models/losses/focal_loss.h"
#include "cppdet/models/losses/gfocal_loss.h"
#include "cppdet/models/losses/iou_loss.h"
#include "cppdet/models/losses/l1_loss.h"
#include "cppdet/models/losses/smooth_l1_loss.h"
#include "cppdet/models/necks/fpn.h"
#include "cppdet/models/plugins/context_block.h"
#include "cppdet/models/plugins/generalized_attention.h"
#include "cppdet/models/registries.h"
#include "cppdet/models/roi_heads/bbox_heads/convfc_bbox_head.h"
#include "cppdet/models/roi_heads/mask_heads/fcn_mask_head.h"
#include "cppdet/models/roi_heads/roi_extractors/single_roi_extractor.h"
#include "cppdet/models/roi_heads/standard_roi_head.h"
#include "cppdet/models/task/anchor_generator.h"
#include "cppdet/models/task/atss_assigner.h"
#include "cppdet/models/task/delta_xywh_coder.h"
#include "cppdet/models/task/distance_point_coder.h"
#include "cppdet/models/task/max_iou_assigner.h"
#include "cppdet/models/task/point_generator.h"
#include "cppdet/models/task/pseudo_sampler.h"
#include "cppdet/models/task/random_sampler.h"

namespace cppdet::models {

void register_builtin_models(ModelRegistries& r) {
  r.backbones.add("ResNet", [](const BuildContext& c) -> std::shared_ptr<Backbone> {
    return std::make_shared<ResNet>(ResNetOptions::from_config(c.cfg, c.path));
  });

  r.necks.add("FPN", [](const BuildContext& c) -> std::shared_ptr<Neck> {
    return std::make_shared<FPN>(FPNOptions::from_config(c.cfg, c.path));
  });

  r.dense_heads.add("RPNHead", [](const BuildContext& c, const HeadConfigs& h) -> std::shared_ptr<DenseHead> {
    return std::make_shared<RPNHead>(RPNHeadOptions::from_config(c.cfg, c.path, h));
  });
  r.dense_heads.add("RetinaHead", [](const BuildContext& c, const HeadConfigs& h) -> std::shared_ptr<DenseHead> {
    return std::make_shared<RetinaHead>(RetinaHeadOptions::from_config(c.cfg, c.path, h));
  });
  r.dense_heads.add("FCOSHead", [](const BuildContext& c, const HeadConfigs& h) -> std::shared_ptr<DenseHead> {
    return std::make_shared<FCOSHead>(FCOSHeadOptions::from_config(c.cfg, c.path, h));
  });
  r.dense_heads.add("ATSSHead", [](const BuildContext& c, const HeadConfigs& h) -> std::shared_ptr<DenseHead> {
    return std::make_shared<ATSSHead>(ATSSHeadOptions::from_config(c.cfg, c.path, h));
  });
  r.dense_heads.add("GFLHead", [](const BuildContext& c, const HeadConfigs& h) -> std::shared_ptr<DenseHead> {
    return std::make_shared<GFLHead>(GFLHeadOptions::from_config(c.cfg, c.path, h));
  });

  r.roi_heads.add("StandardRoIHead", [](const BuildContext& c, const HeadConfigs& h) -> std::shared_ptr<RoIHead> {
    return std::make_shared<StandardRoIHead>(StandardRoIHeadOptions::from_config(c.cfg, c.path, h));
  });
  r.roi_extractors.add("SingleRoIExtractor", [](const BuildContext& c) -> std::shared_ptr<RoIExtractor> {
    return std::make_shared<SingleRoIExtractor>(SingleRoIExtractorOptions::from_config(c.cfg, c.path));
  });
  for (const char* name : {"ConvFCBBoxHead", "Shared2FCBBoxHead", "Shared4Conv1FCBBoxHead"}) {
    const std::string preset = std::string(name) == "ConvFCBBoxHead" ? "" : name;
    r.bbox_heads.add(name, [preset](const BuildContext& c) -> std::shared_ptr<BBoxHead> {
      return std::make_shared<ConvFCBBoxHead>(ConvFCBBoxHeadOptions::from_config(c.cfg, c.path, preset));
    });
  }
  r.mask_heads.add("FCNMaskHead", [](const BuildContext& c) -> std::shared_ptr<MaskHead> {
    return std::make_shared<FCNMaskHead>(FCNMaskHeadOptions::from_config(c.cfg, c.path));
  });

  for (const char* name : {"TwoStageDetector", "FasterRCNN", "MaskRCNN"}) {
    r.detectors.add(name, [name](const BuildContext& c) -> std::shared_ptr<Detector> {
      return std::make_shared<TwoStageDetector>(c.cfg, c.path, name);
    });
  }
  for (const char* name : {"SingleStageDetector", "RetinaNet", "FCOS", "ATSS", "GFL"}) {
    r.detectors.add(name, [name](const BuildContext& c) -> std::shared_ptr<Detector> {
      return std::make_shared<SingleStageDetector>(c.cfg, c.path, name);
    });
  }

  r.bbox_coders.add("DeltaXYWHBBoxCoder", [](const BuildContext& c) -> std::shared_ptr<BBoxCoder> {
    return std::make_shared<DeltaXYWHBBoxCoder>(DeltaXYWHCoderOptions::from_config(c.cfg, c.path));
  });
  r.bbox_coders.add("DistancePointBBoxCoder", [](const BuildContext& c) -> std::shared_ptr<BBoxCoder> {
    return std::make_shared<DistancePointBBoxCoder>(DistancePointCoderOptions::from_config(c.cfg, c.path));
  });
  r.prior_generators.add("MlvlPointGenerator", [](const BuildContext& c) -> std::shared_ptr<PriorGenerator> {
    return std::make_shared<MlvlPointGenerator>(PointGeneratorOptions::from_config(c.cfg, c.path));
  });
  r.prior_generators.add("AnchorGenerator", [](const BuildContext& c) -> std::shared_ptr<PriorGenerator> {
    return std::make_shared<AnchorGenerator>(AnchorGeneratorOptions::from_config(c.cfg, c.path));
  });

  r.losses.add("CrossEntropyLoss", [](const BuildContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<CrossEntropyLoss>(CrossEntropyLossOptions::from_config(c.cfg, c.path));
  });
  r.losses.add("L1Loss", [](const BuildContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<L1Loss>(L1LossOptions::from_config(c.cfg, c.path));
  });
  r.losses.add("SmoothL1Loss", [](const BuildContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<SmoothL1Loss>(SmoothL1LossOptions::from_config(c.cfg, c.path));
  });
  r.losses.add("FocalLoss", [](const BuildContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<FocalLoss>(FocalLossOptions::from_config(c.cfg, c.path));
  });

  for (const char* name : {"IoULoss", "GIoULoss"}) {
    r.losses.add(name, [name](const BuildContext& c) -> std::shared_ptr<Loss> {
      return std::make_shared<IoULoss>(IoULossOptions::from_config(c.cfg, c.path, name));
    });
  }
  r.losses.add("QualityFocalLoss", [](const BuildContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<QualityFocalLoss>(QualityFocalLossOptions::from_config(c.cfg, c.path));
  });
  r.losses.add("DistributionFocalLoss", [](const BuildContext& c) -> std::shared_ptr<Loss> {
    return std::make_shared<DistributionFocalLoss>(DistributionFocalLossOptions::from_config(c.cfg, c.path));
  });

  r.bbox_assigners.add("ATSSAssigner", [](const BuildContext& c) -> std::shared_ptr<BBoxAssigner> {
    return std::make_shared<ATSSAssigner>(ATSSAssignerOptions::from_config(c.cfg, c.path));
  });
  r.bbox_assigners.add("MaxIoUAssigner", [](const BuildContext& c) -> std::shared_ptr<BBoxAssigner> {
    return std::make_shared<MaxIoUAssigner>(MaxIoUAssignerOptions::from_config(c.cfg, c.path));
  });
  r.bbox_samplers.add("RandomSampler", [](const BuildContext& c) -> std::shared_ptr<BBoxSampler> {
    return std::make_shared<RandomSampler>(RandomSamplerOptions::from_config(c.cfg, c.path));
  });
  r.bbox_samplers.add("PseudoSampler", [](const BuildContext&) -> std::shared_ptr<BBoxSampler> {
    return std::make_shared<PseudoSampler>();
  });

  r.plugins.add("ContextBlock", [](const BuildContext& c, int64_t in_channels) -> std::shared_ptr<PluginLayer> {
    return std::make_shared<ContextBlock>(ContextBlockOptions::from_config(c.cfg, c.path, in_channels));
  });
  r.plugins.add("GeneralizedAttention", [](const BuildContext& c, int64_t in_channels) -> std::shared_ptr<PluginLayer> {
    return std::make_shared<GeneralizedAttention>(GeneralizedAttentionOptions::from_config(c.cfg, c.path, in_channels));
  });
}

}  // namespace cppdet::models
