// MlvlPointGenerator (offset 0.5 grid, validity for the padded shape) and
// DistancePointBBoxCoder (decode with clipping, encode with max_dis), hand-computed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cppdet/models/task/distance_point_coder.h"
#include "cppdet/models/task/point_generator.h"

namespace cppdet::models {
namespace {

TEST(MlvlPointGenerator, PointsAtCellCentresRowMajor) {
  PointGeneratorOptions o;
  o.strides = {{8, 8}, {16, 16}};
  const MlvlPointGenerator gen(o);
  const std::vector<torch::Tensor> p = gen.grid_priors({{2, 2}, {1, 3}}, torch::kFloat32, torch::kCPU);
  EXPECT_TRUE(torch::equal(p[0], torch::tensor({{4.f, 4.f}, {12.f, 4.f}, {4.f, 12.f}, {12.f, 12.f}})));
  EXPECT_TRUE(torch::equal(p[1], torch::tensor({{8.f, 8.f}, {24.f, 8.f}, {40.f, 8.f}})));
  o.offset = 0;
  EXPECT_TRUE(torch::equal(MlvlPointGenerator(o).grid_priors({{1, 2}, {1, 1}}, torch::kFloat32, torch::kCPU)[0],
                           torch::tensor({{0.f, 0.f}, {8.f, 0.f}})));
  // A 3x4 map of a 20 x 17 padded image: ceil(20/8) = 3 rows and ceil(17/8) = 3 columns valid.
  const torch::Tensor valid = gen.valid_flags({{3, 4}, {1, 1}}, {20, 17}, torch::kCPU)[0];
  EXPECT_TRUE(torch::equal(valid, torch::tensor({1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0}).to(torch::kBool)));
}

TEST(DistancePointBBoxCoder, DecodeClipsAndEncodeClamps) {
  const DistancePointBBoxCoder coder;
  const torch::Tensor points = torch::tensor({{10.f, 20.f}, {50.f, 5.f}});
  const torch::Tensor d = torch::tensor({{4.f, 5.f, 6.f, 7.f}, {60.f, 10.f, 3.f, 2.f}});
  EXPECT_TRUE(torch::equal(coder.decode(points, d), torch::tensor({{6.f, 15.f, 16.f, 27.f}, {-10.f, -5.f, 53.f, 7.f}})));
  // max_shape (h, w) = (25, 52): x to [0, 52], y to [0, 25].
  EXPECT_TRUE(torch::equal(coder.decode(points, d, ImageSize{25, 52}),
                           torch::tensor({{6.f, 15.f, 16.f, 25.f}, {0.f, 0.f, 52.f, 7.f}})));
  const torch::Tensor boxes = torch::tensor({{6.f, 15.f, 16.f, 27.f}, {-10.f, 4.f, 80.f, 7.f}});
  EXPECT_TRUE(torch::equal(coder.encode(points, boxes), torch::tensor({{4.f, 5.f, 6.f, 7.f}, {60.f, 1.f, 30.f, 2.f}})));
  EXPECT_TRUE(torch::allclose(coder.encode(points, boxes, 16.0),
                              torch::tensor({{4.f, 5.f, 6.f, 7.f}, {15.9f, 1.f, 15.9f, 2.f}})));
}

}  // namespace
}  // namespace cppdet::models
