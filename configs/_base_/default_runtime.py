# Runtime defaults shared by every config (MMDetection 2.25 values).
checkpoint_config = dict(interval=1)
log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook')])
custom_hooks = [dict(type='NumClassCheckHook')]

dist_params = dict(backend='nccl')
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]

# OpenCV threads inside data workers (0: let each worker run single-threaded).
opencv_num_threads = 0
mp_start_method = 'fork'

# Automatic LR scaling: base_batch_size = 8 GPUs x 2 images per GPU.
auto_scale_lr = dict(enable=False, base_batch_size=16)
