// Deformable convolution v1 / v2 (ops/deform_conv.h), forward and backward, against
//  - a direct reference written here in double: every sample gathered from its four bilinear
//    corners (zero outside the image), times the mask, summed with the weight; autograd
//    differentiates it, so the gradients of input, offset, mask, weight and bias are checked
//    against derivatives the op's hand-written backward does not share;
//  - torchvision.ops.deform_conv2d (Python, an independent C++ implementation of the same
//    convention: offsets (dy, dx) per tap and deform group, mask after the sigmoid), forward
//    and backward in float32.
// Offsets are random with a heavy tail (up to +-9 px on maps of 7-12 px), so that a good share
// of the samples, and of single corners, fall outside the image.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "cppdet/ops/deform_conv.h"
#include "python_reference.h"

namespace cppdet::ops {
namespace {

struct DeformCase {
  int64_t batch, in_channels, out_channels, height, width, kernel_h, kernel_w;
  DeformConvParams params;
  bool modulated;
  bool bias;
};

DeformConvParams make_params(int64_t stride, int64_t pad_h, int64_t pad_w, int64_t dilation, int64_t groups,
                             int64_t deform_groups) {
  DeformConvParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_h = pad_h;
  p.pad_w = pad_w;
  p.dilation_h = p.dilation_w = dilation;
  p.groups = groups;
  p.deform_groups = deform_groups;
  return p;
}

std::vector<DeformCase> cases() {
  return {
      {2, 6, 4, 7, 9, 3, 3, make_params(1, 1, 1, 1, 1, 1), false, false},
      {2, 6, 4, 7, 9, 3, 3, make_params(1, 1, 1, 1, 1, 1), true, true},
      {1, 8, 6, 10, 8, 3, 3, make_params(2, 2, 2, 2, 2, 4), false, false},
      {1, 8, 6, 10, 8, 3, 3, make_params(2, 2, 2, 2, 2, 4), true, false},
      {2, 6, 9, 9, 12, 2, 3, make_params(1, 0, 1, 1, 3, 2), true, true},
  };
}

int64_t out_size(int64_t in, int64_t pad, int64_t dilation, int64_t kernel, int64_t stride) {
  return (in + 2 * pad - (dilation * (kernel - 1) + 1)) / stride + 1;
}

struct DeformInputs {
  torch::Tensor input, offset, mask, weight, bias, grad;
};

DeformInputs make_inputs(const DeformCase& c, uint64_t seed) {
  torch::manual_seed(seed);
  const DeformConvParams& p = c.params;
  const int64_t oh = out_size(c.height, p.pad_h, p.dilation_h, c.kernel_h, p.stride_h);
  const int64_t ow = out_size(c.width, p.pad_w, p.dilation_w, c.kernel_w, p.stride_w);
  const int64_t taps = c.kernel_h * c.kernel_w;
  DeformInputs in;
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  in.input = torch::randn({c.batch, c.in_channels, c.height, c.width}, f64);
  // Mostly small offsets, one in five large (up to +-9 px).
  const torch::Tensor small = torch::randn({c.batch, 2 * p.deform_groups * taps, oh, ow}, f64) * 1.5;
  const torch::Tensor large = (torch::rand_like(small) * 18 - 9);
  in.offset = torch::where(torch::rand_like(small) < 0.2, large, small);
  if (c.modulated) in.mask = torch::rand({c.batch, p.deform_groups * taps, oh, ow}, f64);
  in.weight = torch::randn({c.out_channels, c.in_channels / p.groups, c.kernel_h, c.kernel_w}, f64) * 0.3;
  if (c.bias) in.bias = torch::randn({c.out_channels}, f64);
  in.grad = torch::randn({c.batch, c.out_channels, oh, ow}, f64);
  return in;
}

// The direct reference (see the file comment); autograd-differentiable.
torch::Tensor reference_deform_conv(const torch::Tensor& input, const torch::Tensor& offset, const torch::Tensor& mask,
                                    const torch::Tensor& weight, const torch::Tensor& bias, const DeformConvParams& p) {
  const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
  const int64_t kh = weight.size(2), kw = weight.size(3), taps = kh * kw;
  const int64_t oh = offset.size(2), ow = offset.size(3), dg = p.deform_groups, cpg = c / dg;
  const auto opts = input.options().requires_grad(false);
  // Base sample positions [K, oh, ow].
  const torch::Tensor i = torch::arange(kh, opts).repeat_interleave(kw).view({taps, 1, 1});
  const torch::Tensor j = torch::arange(kw, opts).repeat({kh}).view({taps, 1, 1});
  const torch::Tensor ho = torch::arange(oh, opts).view({1, oh, 1}), wo = torch::arange(ow, opts).view({1, 1, ow});
  const torch::Tensor base_h = ho * p.stride_h - p.pad_h + i * p.dilation_h;
  const torch::Tensor base_w = wo * p.stride_w - p.pad_w + j * p.dilation_w;
  const torch::Tensor off = offset.view({n, dg, taps, 2, oh, ow});
  const torch::Tensor sh = base_h + off.select(3, 0), sw = base_w + off.select(3, 1);  // [n, dg, K, oh, ow]
  const torch::Tensor inside = ((sh > -1) & (sw > -1) & (sh < h) & (sw < w)).to(input.scalar_type());
  const torch::Tensor h0 = sh.detach().floor(), w0 = sw.detach().floor();
  const torch::Tensor lh = sh - h0, lw = sw - w0, hh = 1 - lh, hw = 1 - lw;
  const torch::Tensor x = input.view({n, dg, cpg, h * w});
  torch::Tensor sample = torch::zeros({n, dg, cpg, taps, oh, ow}, input.options());
  const std::vector<std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>> corners{
      {h0, w0, hh * hw}, {h0, w0 + 1, hh * lw}, {h0 + 1, w0, lh * hw}, {h0 + 1, w0 + 1, lh * lw}};
  for (const auto& [yy, xx, wt] : corners) {
    const torch::Tensor valid = inside * ((yy >= 0) & (yy <= h - 1) & (xx >= 0) & (xx <= w - 1)).to(input.scalar_type());
    const torch::Tensor idx = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).to(torch::kLong);
    const torch::Tensor gathered =
        x.gather(3, idx.view({n, dg, 1, taps * oh * ow}).expand({n, dg, cpg, taps * oh * ow})).view({n, dg, cpg, taps, oh, ow});
    sample = sample + (wt * valid).unsqueeze(2) * gathered;
  }
  if (mask.defined()) sample = sample * mask.view({n, dg, 1, taps, oh, ow});
  const int64_t g = p.groups, co = weight.size(0);
  const torch::Tensor cols = sample.reshape({n, g, c / g * taps, oh * ow});
  const torch::Tensor wg = weight.reshape({g, co / g, c / g * taps});
  torch::Tensor out = torch::einsum("gok,ngkp->ngop", {wg, cols}).reshape({n, co, oh, ow});
  if (bias.defined()) out = out + bias.view({1, -1, 1, 1});
  return out;
}

torch::Tensor run_op(const DeformInputs& in, const DeformConvParams& p) {
  return in.mask.defined() ? modulated_deform_conv2d(in.input, in.offset, in.mask, in.weight, in.bias, p)
                           : deform_conv2d(in.input, in.offset, in.weight, p);
}

// Leaf copies (dtype `type`) that require grad.
DeformInputs leaves(const DeformInputs& in, torch::ScalarType type) {
  auto leaf = [&](const torch::Tensor& t) { return t.defined() ? t.to(type).detach().requires_grad_(true) : t; };
  return {leaf(in.input), leaf(in.offset), leaf(in.mask), leaf(in.weight), leaf(in.bias), in.grad.to(type)};
}

// Gradients of sum(out * grad) w.r.t. input, offset, mask, weight, bias (undefined when absent).
std::vector<torch::Tensor> gradients(const DeformInputs& in, const torch::Tensor& out) {
  std::vector<torch::Tensor> wrt;
  for (const torch::Tensor* t : {&in.input, &in.offset, &in.mask, &in.weight, &in.bias})
    if (t->defined()) wrt.push_back(*t);
  std::vector<torch::Tensor> g = torch::autograd::grad({(out * in.grad).sum()}, wrt);
  std::vector<torch::Tensor> all;
  size_t k = 0;
  for (const torch::Tensor* t : {&in.input, &in.offset, &in.mask, &in.weight, &in.bias})
    all.push_back(t->defined() ? g[k++] : torch::Tensor());
  return all;
}

const char* const kGradNames[] = {"input", "offset", "mask", "weight", "bias"};

double rel_err(const torch::Tensor& got, const torch::Tensor& ref) {
  const double scale = std::max(ref.abs().max().item<double>(), 1e-30);
  return (got.to(torch::kDouble) - ref.to(torch::kDouble)).abs().max().item<double>() / scale;
}

void check_against_reference(const DeformCase& c, uint64_t seed) {
  const DeformInputs base = make_inputs(c, seed);

  const DeformInputs ref_in = leaves(base, torch::kDouble);
  const torch::Tensor ref = reference_deform_conv(ref_in.input, ref_in.offset, ref_in.mask, ref_in.weight, ref_in.bias, c.params);
  const std::vector<torch::Tensor> ref_grads = gradients(ref_in, ref);

  // Many samples outside the image: the zero padding is exercised.
  const torch::Tensor off = base.offset.view({c.batch, c.params.deform_groups, -1, 2, base.offset.size(2), base.offset.size(3)});
  EXPECT_GT((off.abs() > 4).to(torch::kDouble).mean().item<double>(), 0.1);

  // double: the same numbers up to rounding.
  const DeformInputs d = leaves(base, torch::kDouble);
  const torch::Tensor out_d = run_op(d, c.params);
  EXPECT_LT(rel_err(out_d, ref), 1e-12);
  const std::vector<torch::Tensor> grads_d = gradients(d, out_d);
  for (size_t k = 0; k < 5; ++k) {
    ASSERT_EQ(grads_d[k].defined(), ref_grads[k].defined()) << kGradNames[k];
    if (ref_grads[k].defined()) EXPECT_LT(rel_err(grads_d[k], ref_grads[k]), 1e-10) << kGradNames[k];
  }

  // float: within float rounding of the double reference.
  const DeformInputs f = leaves(base, torch::kFloat);
  const torch::Tensor out_f = run_op(f, c.params);
  EXPECT_EQ(out_f.scalar_type(), torch::kFloat);
  EXPECT_LT(rel_err(out_f, ref), 1e-5);
  const std::vector<torch::Tensor> grads_f = gradients(f, out_f);
  for (size_t k = 0; k < 5; ++k)
    if (ref_grads[k].defined()) EXPECT_LT(rel_err(grads_f[k], ref_grads[k]), 1e-5) << kGradNames[k];
}

TEST(DeformConv, ForwardAndGradientsMatchTheDirectReference) {
  const std::vector<DeformCase> all = cases();
  for (size_t k = 0; k < all.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    check_against_reference(all[k], 100 + k);
  }
}

TEST(DeformConv, ZeroAndIntegerOffsets) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({2, 8, 9, 11});
  const torch::Tensor w = torch::randn({6, 4, 3, 3});
  const DeformConvParams p = make_params(2, 2, 2, 2, 2, 2);
  const torch::Tensor conv = torch::conv2d(x, w, {}, 2, 2, 2, 2);
  const torch::Tensor offset = torch::zeros({2, 2 * 2 * 9, conv.size(2), conv.size(3)});
  EXPECT_LT(rel_err(deform_conv2d(x, offset, w, p), conv), 1e-6);
  const torch::Tensor half = torch::full({2, 2 * 9, conv.size(2), conv.size(3)}, 0.5);
  EXPECT_LT(rel_err(modulated_deform_conv2d(x, offset, half, w, torch::Tensor(), p), conv * 0.5), 1e-6);

  // dy = 1, dx = -2 everywhere: a 1x1 deformable conv reads x[h + 1, w - 2] (0 outside).
  const torch::Tensor img = torch::arange(30, torch::kFloat).view({1, 1, 5, 6});
  torch::Tensor shift = torch::zeros({1, 2, 5, 6});
  shift.select(1, 0).fill_(1);
  shift.select(1, 1).fill_(-2);
  const torch::Tensor out = deform_conv2d(img, shift, torch::ones({1, 1, 1, 1}), DeformConvParams{});
  torch::Tensor expected = torch::zeros({1, 1, 5, 6});
  expected.index_put_({0, 0, torch::indexing::Slice(0, 4), torch::indexing::Slice(2, 6)},
                      img.index({0, 0, torch::indexing::Slice(1, 5), torch::indexing::Slice(0, 4)}));
  EXPECT_TRUE(torch::equal(out, expected)) << out;
}

TEST(DeformConv, AutogradOnlyWhereNeededAndShapeErrors) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({1, 4, 6, 6}).requires_grad_(true);
  const torch::Tensor offset = torch::randn({1, 18, 6, 6});
  const torch::Tensor w = torch::randn({3, 4, 3, 3});
  const torch::Tensor out = deform_conv2d(x, offset, w, make_params(1, 1, 1, 1, 1, 1));
  out.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().sizes(), x.sizes());
  EXPECT_FALSE(w.grad().defined());
  // No autograd at all: a plain tensor comes back.
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(deform_conv2d(x, offset, w, make_params(1, 1, 1, 1, 1, 1)).requires_grad());

  EXPECT_THROW(deform_conv2d(x, torch::zeros({1, 16, 6, 6}), w, make_params(1, 1, 1, 1, 1, 1)), c10::Error);
  EXPECT_THROW(deform_conv2d(x, torch::zeros({1, 18, 6, 6}), w, make_params(1, 1, 1, 1, 1, 3)), c10::Error);
  EXPECT_THROW(modulated_deform_conv2d(x, torch::zeros({1, 18, 6, 6}), torch::zeros({1, 8, 6, 6}), w, torch::Tensor(),
                                       make_params(1, 1, 1, 1, 1, 1)),
               c10::Error);
  EXPECT_THROW(deform_conv2d(x.to(torch::kDouble), torch::zeros({1, 18, 6, 6}), w, make_params(1, 1, 1, 1, 1, 1)), c10::Error);
}

// torchvision.ops.deform_conv2d on every case in one Python run, float32.
class DeformConvVsTorchvision : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::python_torchvision_available()) return;
    testing::TensorMap inputs;
    const std::vector<DeformCase> all = cases();
    for (size_t k = 0; k < all.size(); ++k) {
      const DeformInputs in = make_inputs(all[k], 200 + k);
      const std::string pre = "c" + std::to_string(k) + "_";
      inputs[pre + "input"] = in.input.to(torch::kFloat);
      inputs[pre + "offset"] = in.offset.to(torch::kFloat);
      inputs[pre + "weight"] = in.weight.to(torch::kFloat);
      inputs[pre + "grad"] = in.grad.to(torch::kFloat);
      if (in.mask.defined()) inputs[pre + "mask"] = in.mask.to(torch::kFloat);
      if (in.bias.defined()) inputs[pre + "bias"] = in.bias.to(torch::kFloat);
      const DeformConvParams& p = all[k].params;
      inputs[pre + "params"] = torch::tensor({p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w});
    }
    inputs["ncases"] = torch::tensor({static_cast<int64_t>(all.size())});
    const std::string body = R"(
import torchvision
for k in range(int(inp['ncases'][0])):
    pre = 'c%d_' % k
    t = {n: inp[pre + n].clone().requires_grad_(True) for n in ('input', 'offset', 'weight', 'mask', 'bias') if pre + n in inp}
    s = inp[pre + 'params'].tolist()
    y = torchvision.ops.deform_conv2d(t['input'], t['offset'], t['weight'], t.get('bias'), stride=(s[0], s[1]),
                                      padding=(s[2], s[3]), dilation=(s[4], s[5]), mask=t.get('mask'))
    y.backward(inp[pre + 'grad'])
    out[pre + 'out'] = y
    for n, v in t.items():
        out[pre + 'grad_' + n] = v.grad
)";
    ref_ = new testing::TensorMap(testing::run_python_reference(body, inputs));
  }
  static void TearDownTestSuite() {
    delete ref_;
    ref_ = nullptr;
  }
  void SetUp() override {
    if (!testing::python_torchvision_available()) GTEST_SKIP() << "python3 with torch/torchvision not found";
  }
  static testing::TensorMap* ref_;
};
testing::TensorMap* DeformConvVsTorchvision::ref_ = nullptr;

TEST_F(DeformConvVsTorchvision, ForwardAndBackwardAgreeInFloat) {
  const std::vector<DeformCase> all = cases();
  for (size_t k = 0; k < all.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    const std::string pre = "c" + std::to_string(k) + "_";
    const DeformInputs in = leaves(make_inputs(all[k], 200 + k), torch::kFloat);
    const torch::Tensor out = run_op(in, all[k].params);
    EXPECT_LT(rel_err(out, ref_->at(pre + "out")), 2e-6);
    const std::vector<torch::Tensor> grads = gradients(in, out);
    for (size_t g = 0; g < 5; ++g) {
      if (!grads[g].defined()) continue;
      EXPECT_LT(rel_err(grads[g], ref_->at(pre + "grad_" + kGradNames[g])), 1e-5) << kGradNames[g];
    }
  }
}

}  // namespace
}  // namespace cppdet::ops
