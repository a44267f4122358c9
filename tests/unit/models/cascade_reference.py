# MMDetection 2.25's CascadeRoIHead.simple_test (with masks) written out in plain torch /
# torchvision / numpy, as the reference of cascade_roi_head_test.cpp. Run through
# tests/unit/ops/python_reference.h: `inp` holds the tensors the test wrote, `out` receives the
# results. Everything follows mmdet/mmcv 2.25 / 1.6 line by line in meaning:
# SingleRoIExtractor (level = floor(log2(sqrt(wh) / 56 + 1e-6)), mmcv RoIAlign = torchvision's
# roi_align with aligned=True), Shared2FCBBoxHead, BBoxHead.regress_by_class / get_bboxes,
# delta2bbox, multiclass_nms + batched_nms, FCNMaskHead, merge_aug_masks (np.mean), and
# get_seg_masks / _do_paste_mask on the CPU.
#
# inputs: feat0..feat3 [1 or N, C, H, W]; proposals<b> [k, 5]; img_shape [N, 2] (h, w);
# ori_shape [N, 2]; scale_factor [N, 4] float32; stds [S, 4] float64; sampling_ratio [S] (mask
# RoI extractors); class_agnostic [S] (bbox heads); score_thr, iou_thr, mask_thr [1] float64;
# max_per_img [1]; and the RoI head's parameters under their state_dict names
# (bbox_head.<s>.shared_fcs.0.weight, mask_head.<s>.convs.0.conv.weight, ...).
# outputs: rois<s> (the RoIs fed to stage s), cls_score (stage-averaged logits),
# dets<b> [K, 5], labels<b> [K], merged<b> [K, 28, 28], masks<b> [K, H, W] (uint8).
import math

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import nms, roi_align

S = inp['stds'].shape[0]
N = inp['img_shape'].shape[0]
feats = [inp['feat%d' % i] for i in range(4)]
strides = [4, 8, 16, 32]
W = {k: v for k, v in inp.items()}


def bbox2roi(bbox_list):
    rois = []
    for i, b in enumerate(bbox_list):
        rois.append(torch.cat([b.new_full((b.size(0), 1), i), b[:, :4]], dim=-1))
    return torch.cat(rois, 0)


def extract(rois, out_size, sampling_ratio):
    scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
    lvls = torch.floor(torch.log2(scale / 56 + 1e-6)).clamp(min=0, max=3).long()
    roi_feats = feats[0].new_zeros(rois.size(0), feats[0].size(1), out_size, out_size)
    for i in range(4):
        inds = (lvls == i).nonzero(as_tuple=False).squeeze(1)
        if inds.numel() > 0:
            roi_feats[inds] = roi_align(feats[i], rois[inds], (out_size, out_size), 1.0 / strides[i],
                                        sampling_ratio, True)
    return roi_feats


def bbox_forward(s, rois):
    p = 'bbox_head.%d.' % s
    x = extract(rois, 7, 0).flatten(1)
    x = F.relu(F.linear(x, W[p + 'shared_fcs.0.weight'], W[p + 'shared_fcs.0.bias']))
    x = F.relu(F.linear(x, W[p + 'shared_fcs.1.weight'], W[p + 'shared_fcs.1.bias']))
    return (F.linear(x, W[p + 'fc_cls.weight'], W[p + 'fc_cls.bias']),
            F.linear(x, W[p + 'fc_reg.weight'], W[p + 'fc_reg.bias']))


def mask_forward(s, rois):
    p = 'mask_head.%d.' % s
    x = extract(rois, 14, int(inp['sampling_ratio'][s]))
    for i in range(4):
        x = F.relu(F.conv2d(x, W[p + 'convs.%d.conv.weight' % i], W[p + 'convs.%d.conv.bias' % i], padding=1))
    x = F.relu(F.conv_transpose2d(x, W[p + 'upsample.weight'], W[p + 'upsample.bias'], stride=2))
    return F.conv2d(x, W[p + 'conv_logits.weight'], W[p + 'conv_logits.bias'])


def delta2bbox(rois, deltas, stds, max_shape, wh_ratio_clip=16 / 1000):
    num_bboxes, num_classes = deltas.size(0), deltas.size(1) // 4
    if num_bboxes == 0:
        return deltas
    deltas = deltas.reshape(-1, 4)
    means = deltas.new_tensor([0., 0., 0., 0.]).view(1, -1)
    stds = deltas.new_tensor(stds).view(1, -1)
    denorm = deltas * stds + means
    dxy, dwh = denorm[:, :2], denorm[:, 2:]
    rois_ = rois.repeat(1, num_classes).reshape(-1, 4)
    pxy = (rois_[:, :2] + rois_[:, 2:]) * 0.5
    pwh = rois_[:, 2:] - rois_[:, :2]
    dxy_wh = pwh * dxy
    max_ratio = np.abs(np.log(wh_ratio_clip))
    dwh = dwh.clamp(min=-max_ratio, max=max_ratio)
    gxy = pxy + dxy_wh
    gwh = pwh * dwh.exp()
    bboxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
    bboxes[..., 0::2].clamp_(min=0, max=max_shape[1])
    bboxes[..., 1::2].clamp_(min=0, max=max_shape[0])
    return bboxes.reshape(num_bboxes, -1)


def regress_by_class(s, rois, label, bbox_pred, img_shape):
    if not bool(inp['class_agnostic'][s]):
        label = label * 4
        inds = torch.stack((label, label + 1, label + 2, label + 3), 1)
        bbox_pred = torch.gather(bbox_pred, 1, inds)
    bboxes = delta2bbox(rois[:, 1:], bbox_pred, inp['stds'][s].tolist(), img_shape)
    return torch.cat((rois[:, [0]], bboxes), dim=1)


def batched_nms(boxes, scores, idxs, iou_threshold):
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
    boxes_for_nms = boxes + offsets[:, None]
    keep = nms(boxes_for_nms, scores, iou_threshold)
    return torch.cat([boxes[keep], scores[keep][:, None]], -1), keep


def multiclass_nms(multi_bboxes, multi_scores, score_thr, iou_thr, max_num):
    num_classes = multi_scores.size(1) - 1
    if multi_bboxes.shape[1] > 4:
        bboxes = multi_bboxes.view(multi_scores.size(0), -1, 4)
    else:
        bboxes = multi_bboxes[:, None].expand(multi_scores.size(0), num_classes, 4)
    scores = multi_scores[:, :-1]
    labels = torch.arange(num_classes, dtype=torch.long).view(1, -1).expand_as(scores)
    bboxes, scores, labels = bboxes.reshape(-1, 4), scores.reshape(-1), labels.reshape(-1)
    inds = (scores > score_thr).nonzero(as_tuple=False).squeeze(1)
    bboxes, scores, labels = bboxes[inds], scores[inds], labels[inds]
    dets, keep = batched_nms(bboxes, scores, labels, iou_thr)
    return dets[:max_num], labels[keep][:max_num]


def paste_mask(mask, box, img_h, img_w):  # _do_paste_mask, one detection, skip_empty
    x0_int, y0_int = torch.clamp(box.min(dim=0).values.floor()[:2] - 1, min=0).to(dtype=torch.int32)
    x1_int = torch.clamp(box[:, 2].max().ceil() + 1, max=img_w).to(dtype=torch.int32)
    y1_int = torch.clamp(box[:, 3].max().ceil() + 1, max=img_h).to(dtype=torch.int32)
    x0, y0, x1, y1 = torch.split(box, 1, dim=1)
    img_y = torch.arange(y0_int, y1_int).to(torch.float32) + 0.5
    img_x = torch.arange(x0_int, x1_int).to(torch.float32) + 0.5
    img_y = (img_y - y0) / (y1 - y0) * 2 - 1
    img_x = (img_x - x0) / (x1 - x0) * 2 - 1
    img_x[torch.isinf(img_x)] = 0
    img_y[torch.isinf(img_y)] = 0
    gx = img_x[:, None, :].expand(1, img_y.size(1), img_x.size(1))
    gy = img_y[:, :, None].expand(1, img_y.size(1), img_x.size(1))
    grid = torch.stack([gx, gy], dim=3)
    pasted = F.grid_sample(mask.to(dtype=torch.float32), grid, align_corners=False)
    return pasted[:, 0], (slice(y0_int, y1_int), slice(x0_int, x1_int))


proposal_list = [inp['proposals%d' % b] for b in range(N)]
num_per_img = tuple(len(p) for p in proposal_list)
img_shapes = [inp['img_shape'][b].tolist() for b in range(N)]
rois = bbox2roi(proposal_list)
ms_scores = []
for i in range(S):
    out['rois%d' % i] = rois.clone()
    cls_score, bbox_pred = bbox_forward(i, rois)
    rois = rois.split(num_per_img, 0)
    cls_score = cls_score.split(num_per_img, 0)
    bbox_pred = bbox_pred.split(num_per_img, 0)
    ms_scores.append(cls_score)
    if i < S - 1:
        refined = []
        for j in range(N):
            if rois[j].shape[0] > 0:
                label = cls_score[j][:, :-1].argmax(dim=1)
                refined.append(regress_by_class(i, rois[j], label, bbox_pred[j], img_shapes[j]))
        rois = torch.cat(refined)
cls_score = [sum([score[b] for score in ms_scores]) / float(len(ms_scores)) for b in range(N)]
out['cls_score'] = torch.cat(cls_score)

det_bboxes, det_labels = [], []
last_agnostic = bool(inp['class_agnostic'][S - 1])
for b in range(N):
    scores = F.softmax(cls_score[b], dim=-1)
    bboxes = delta2bbox(rois[b][:, 1:], bbox_pred[b], inp['stds'][S - 1].tolist(), img_shapes[b])
    sf = inp['scale_factor'][b]
    bboxes = (bboxes.view(bboxes.size(0), -1, 4) / sf).view(bboxes.size()[0], -1)
    dets, labels = multiclass_nms(bboxes, scores, float(inp['score_thr'][0]), float(inp['iou_thr'][0]),
                                  int(inp['max_per_img'][0]))
    det_bboxes.append(dets)
    det_labels.append(labels)
    out['dets%d' % b] = dets
    out['labels%d' % b] = labels

_bboxes = [det_bboxes[b][:, :4] * inp['scale_factor'][b] for b in range(N)]
mask_rois = bbox2roi(_bboxes)
num_mask_rois = tuple(bb.size(0) for bb in _bboxes)
aug_masks = []
for i in range(S):
    mask_pred = mask_forward(i, mask_rois).split(num_mask_rois, 0)
    aug_masks.append([m.sigmoid().cpu().detach().numpy() for m in mask_pred])
for b in range(N):
    merged = np.mean([mask[b] for mask in aug_masks], axis=0)
    mask_pred = det_bboxes[b].new_tensor(merged)
    labels = det_labels[b]
    n = len(mask_pred)
    mask_pred = mask_pred[range(n), labels][:, None]
    out['merged%d' % b] = mask_pred[:, 0].clone()
    bboxes = _bboxes[b] / inp['scale_factor'][b]
    img_h, img_w = inp['ori_shape'][b].tolist()
    im_mask = torch.zeros(n, img_h, img_w, dtype=torch.bool)
    for k in range(n):
        chunk, spatial = paste_mask(mask_pred[k:k + 1], bboxes[k:k + 1], img_h, img_w)
        im_mask[(slice(k, k + 1),) + spatial] = chunk >= float(inp['mask_thr'][0])
    out['masks%d' % b] = im_mask.to(torch.uint8)
