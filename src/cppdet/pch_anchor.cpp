// Compiles the precompiled <torch/torch.h> that every LibTorch-based module reuses.
