_base_ = './mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco.py'
# 36 epochs, LR steps after epochs 28 and 34.
lr_config = dict(step=[28, 34])
runner = dict(type='EpochBasedRunner', max_epochs=36)
