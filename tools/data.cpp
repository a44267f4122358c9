// `cppdet data synth-shapes OUT_DIR [--train N] [--val M] [--seed S] [--size WxH]`: renders the
// quick start's synthetic COCO instance dataset (data/synth/shapes_dataset.h).
#include <iostream>
#include <regex>

#include "command.h"
#include "cppdet/core/error.h"
#include "cppdet/data/synth/shapes_dataset.h"

namespace cppdet::tools {
namespace {

void register_synth_shapes(CLI::App& data) {
  struct Options {
    std::string out_dir, size = "256x256";
    data::synth::ShapesOptions shapes;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = data.add_subcommand("synth-shapes", "render a synthetic COCO instance dataset of coloured shapes");
  cmd->add_option("out_dir", o->out_dir, "output folder: train/, val/, annotations/instances_{train,val}.json")
      ->required();
  cmd->add_option("--train", o->shapes.num_train, "training images (default 400)");
  cmd->add_option("--val", o->shapes.num_val, "validation images (default 50)");
  cmd->add_option("--seed", o->shapes.seed, "random seed; the same seed gives the same files (default 0)");
  cmd->add_option("--size", o->size, "image size WxH (default 256x256)");
  cmd->callback([o] {
    std::smatch m;
    if (!std::regex_match(o->size, m, std::regex(R"((\d{1,5})x(\d{1,5}))")))
      throw UserError("synth-shapes: --size must look like 256x256, got '" + o->size + "'");
    o->shapes.width = std::stoi(m[1].str());
    o->shapes.height = std::stoi(m[2].str());
    data::synth::write_shapes_dataset(o->out_dir, o->shapes);
    std::cout << "wrote " << o->shapes.num_train << " train and " << o->shapes.num_val << " val images ("
              << o->shapes.width << "x" << o->shapes.height << ", classes:";
    for (const auto& c : data::synth::shape_classes()) std::cout << " " << c;
    std::cout << ") to " << o->out_dir << "\n";
  });
}

}  // namespace

void register_data(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "dataset tools");
  data->require_subcommand(1);
  register_synth_shapes(*data);
}

}  // namespace cppdet::tools
