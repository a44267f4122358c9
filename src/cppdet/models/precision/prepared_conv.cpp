#include "cppdet/models/precision/prepared_conv.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/mkldnn_reorder_conv2d_weight.h>

#include "cppdet/core/error.h"
#include "cppdet/models/common/fuse_conv_bn.h"

namespace cppdet::models {
namespace {

using PackedConv = c10::intrusive_ptr<ConvPackedParamsBase<2>>;

// Conv2d's padding as it applies it ([w_left, w_right, h_top, h_bottom]); protected in
// LibTorch, read through a derived class.
struct ConvPadding : torch::nn::Conv2dImpl {
  static const std::vector<int64_t>& of(const torch::nn::Conv2dImpl& conv) {
    return conv.*(&ConvPadding::_reversed_padding_repeated_twice);
  }
};

// qint8 weight: per output channel, symmetric (zero point 0), scale max|w| / 127.
torch::Tensor quantize_weight(const ConvWeights& w) {
  if (w.transposed) {
    const double scale = std::max(w.weight.abs().max().item<double>() / 127.0, 1e-8);
    return at::quantize_per_tensor(w.weight, scale, 0, at::kQInt8);
  }
  const torch::Tensor scales = (w.weight.abs().amax({1, 2, 3}) / 127.0).clamp_min(1e-8).to(torch::kFloat64);
  return at::quantize_per_channel(w.weight, scales, torch::zeros_like(scales, torch::kLong), 0, at::kQInt8);
}

torch::List<int64_t> int_list(const std::vector<int64_t>& v) { return torch::List<int64_t>(c10::IntArrayRef(v)); }

PackedConv pack_int8(const ConvWeights& w) {
  const torch::Tensor qweight = quantize_weight(w);
  if (w.transposed) {
    static const auto prepack =
        c10::Dispatcher::singleton()
            .findSchemaOrThrow("quantized::conv_transpose2d_prepack", "")
            .typed<PackedConv(at::Tensor, c10::optional<at::Tensor>, torch::List<int64_t>, torch::List<int64_t>,
                              torch::List<int64_t>, torch::List<int64_t>, int64_t)>();
    return prepack.call(qweight, w.bias, int_list(w.stride), int_list(w.padding), int_list(w.output_padding),
                        int_list(w.dilation), w.groups);
  }
  static const auto prepack =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("quantized::conv2d_prepack", "")
          .typed<PackedConv(at::Tensor, c10::optional<at::Tensor>, torch::List<int64_t>, torch::List<int64_t>,
                            torch::List<int64_t>, int64_t)>();
  return prepack.call(qweight, w.bias, int_list(w.stride), int_list(w.padding), int_list(w.dilation), w.groups);
}

}  // namespace

struct PreparedConv::Impl {
  PrecisionMode mode;
  PreparedConvOptions options;
  ConvWeights w;  // kFp32 / kCalibrate / kInt8 float_output / transposed kBf16: float32; kBf16: bf16 (or oneDNN-blocked); kInt8: none
  PackedConv packed;
  ActivationPoint input, output;

  torch::Tensor float_conv(const torch::Tensor& x) const {
    torch::Tensor y = w.transposed ? at::conv_transpose2d(x, w.weight, w.bias, w.stride, w.padding, w.output_padding,
                                                          w.groups, w.dilation)
                                   : at::conv2d(x, w.weight, w.bias, w.stride, w.padding, w.dilation, w.groups);
    return options.relu ? y.relu_() : y;
  }
};

ConvWeights conv_weights(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl* bn) {
  const auto& o = conv.options;
  const std::vector<int64_t>& pad = ConvPadding::of(conv);
  if (o.padding_mode().index() != 0 || pad.size() != 4 || pad[0] != pad[1] || pad[2] != pad[3])
    throw UserError("prepared CPU inference supports zero-padded, symmetric Conv2d only");
  ConvWeights w;
  auto [weight, bias] = folded_conv_bn(conv, bn);
  w.weight = weight.contiguous();
  w.bias = bias.contiguous();
  w.padding = {pad[2], pad[0]};
  w.stride = c10::IntArrayRef(o.stride()).vec();
  w.dilation = c10::IntArrayRef(o.dilation()).vec();
  w.output_padding = {0, 0};
  w.groups = o.groups();
  return w;
}

ConvWeights deconv_weights(const torch::nn::ConvTranspose2dImpl& deconv) {
  const auto& o = deconv.options;
  if (o.padding_mode().index() != 0) throw UserError("prepared CPU inference supports zero-padded ConvTranspose2d only");
  torch::NoGradGuard no_grad;
  ConvWeights w;
  w.weight = deconv.weight.detach().clone().contiguous();
  w.bias = deconv.bias.defined() ? deconv.bias.detach().clone() : torch::zeros({w.weight.size(1) * o.groups()});
  w.stride = c10::IntArrayRef(o.stride()).vec();
  w.padding = c10::IntArrayRef(c10::get<torch::ExpandingArray<2>>(o.padding())).vec();
  w.dilation = c10::IntArrayRef(o.dilation()).vec();
  w.output_padding = c10::IntArrayRef(o.output_padding()).vec();
  w.groups = o.groups();
  w.transposed = true;
  return w;
}

PreparedConv::PreparedConv(const ConvWeights& weights, const InferencePrecision& precision, const std::string& name,
                           PreparedConvOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->mode = precision.mode;
  impl->options = options;
  impl->w = weights;
  torch::NoGradGuard no_grad;
  const bool mkldnn = options.mkldnn_layout && !weights.transposed &&
                      (precision.mode == PrecisionMode::kFp32 || precision.mode == PrecisionMode::kBf16);
  if (mkldnn) {
    const auto dtype = precision.mode == PrecisionMode::kBf16 ? torch::kBFloat16 : torch::kFloat32;
    impl->w.weight = at::mkldnn_reorder_conv2d_weight(weights.weight.to_mkldnn(dtype), weights.padding,
                                                      weights.stride, weights.dilation, weights.groups);
  } else if (precision.mode == PrecisionMode::kBf16 && !weights.transposed) {
    impl->w.weight = weights.weight.to(torch::kBFloat16).contiguous(at::MemoryFormat::ChannelsLast);
    impl->w.bias = weights.bias.to(torch::kBFloat16);
  } else if (precision.mode == PrecisionMode::kInt8 && !options.float_output) {
    impl->packed = pack_int8(weights);
    impl->w.weight = impl->w.bias = torch::Tensor();  // the packed copy is all int8 needs
  }
  if (precision.mode == PrecisionMode::kInt8 || precision.mode == PrecisionMode::kCalibrate) {
    impl->input = ActivationPoint(precision, name + ".input");
    if (!options.float_output) impl->output = ActivationPoint(precision, name + ".output");
  }
  impl_ = std::move(impl);
}

torch::Tensor PreparedConv::operator()(const torch::Tensor& x) const {
  const Impl& p = *impl_;
  const PreparedConvOptions& o = p.options;
  switch (p.mode) {
    case PrecisionMode::kFp32:
    case PrecisionMode::kBf16: {
      if (x.is_mkldnn() && !p.w.transposed && p.w.weight.is_mkldnn()) {
        torch::Tensor y = at::mkldnn_convolution(x, p.w.weight, p.w.bias, p.w.padding, p.w.stride, p.w.dilation, p.w.groups);
        return o.relu ? y.relu_() : y;
      }
      torch::Tensor in = x.is_quantized() || x.is_mkldnn() ? to_float(x) : x;
      if (p.mode == PrecisionMode::kBf16 && !p.w.transposed)
        in = in.to(torch::kBFloat16).contiguous(at::MemoryFormat::ChannelsLast);
      else
        in = to_float(in);  // a transposed conv in float32 (see prepared_conv.h)
      torch::Tensor y = p.float_conv(in);
      return o.float_output ? to_float(y).contiguous() : y;
    }
    case PrecisionMode::kInt8: {
      if (o.float_output) return p.float_conv(to_float(x)).contiguous();
      const torch::Tensor q = p.input.quantize(x);
      const QuantParams& out = p.output.params();
      return o.relu ? p.packed->apply_relu(q, out.scale, out.zero_point) : p.packed->apply(q, out.scale, out.zero_point);
    }
    case PrecisionMode::kCalibrate: {
      torch::Tensor y = p.float_conv(p.input.observe(to_float(x)));
      return o.float_output ? y : p.output.observe(y);
    }
  }
  return {};
}

}  // namespace cppdet::models
