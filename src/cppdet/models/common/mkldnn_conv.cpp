#include "cppdet/models/common/mkldnn_conv.h"

#include <ATen/Context.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/mkldnn_reorder_conv2d_weight.h>

#include "cppdet/core/error.h"
#include "cppdet/models/common/fuse_conv_bn.h"

namespace cppdet::models {

namespace {

// Conv2d's padding as it applies it ([w_left, w_right, h_top, h_bottom], set for explicit,
// "valid" and "same" padding alike); protected in LibTorch, read through a derived class.
struct ConvPadding : torch::nn::Conv2dImpl {
  static const std::vector<int64_t>& of(const torch::nn::Conv2dImpl& conv) {
    return conv.*(&ConvPadding::_reversed_padding_repeated_twice);
  }
};

}  // namespace

bool mkldnn_available() { return at::hasMKLDNN(); }

MkldnnConv::MkldnnConv(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl* bn) {
  const auto& o = conv.options;
  const std::vector<int64_t>& pad = ConvPadding::of(conv);
  if (o.padding_mode().index() != 0 || o.transposed() || pad.size() != 4 || pad[0] != pad[1] || pad[2] != pad[3])
    throw UserError("MKL-DNN inference supports zero-padded, symmetric Conv2d only");
  padding_ = {pad[2], pad[0]};
  stride_ = c10::IntArrayRef(o.stride()).vec();
  dilation_ = c10::IntArrayRef(o.dilation()).vec();
  groups_ = o.groups();
  auto [weight, bias] = folded_conv_bn(conv, bn);
  weight_ = at::mkldnn_reorder_conv2d_weight(weight.contiguous().to_mkldnn(), padding_, stride_, dilation_, groups_);
  bias_ = bias.contiguous();
}

torch::Tensor MkldnnConv::operator()(const torch::Tensor& x) const {
  return at::mkldnn_convolution(x, weight_, bias_, padding_, stride_, dilation_, groups_);
}

}  // namespace cppdet::models
