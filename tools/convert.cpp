// `cppdet convert via2coco | images2coco | cityscapes | voc`: MMDetection's dataset converters
// (the balloon tutorial's VIA conversion and tools/dataset_converters/*.py) without Python.
// Every output file is written whole or not at all.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cppdet/data/converters/cityscapes_to_coco.h"
#include "cppdet/data/converters/converter_io.h"
#include "cppdet/data/converters/images_to_coco.h"
#include "cppdet/data/converters/via_to_coco.h"
#include "cppdet/data/converters/voc_to_coco.h"

namespace cppdet::tools {
namespace {

namespace conv = cppdet::data::converters;
namespace fs = std::filesystem;

void print_notes(const std::vector<std::string>& notes) {
  for (const std::string& n : notes) std::cout << n << "\n";
}

void add_via2coco(CLI::App& convert) {
  struct Opts {
    conv::ViaToCocoOptions via;
    std::string out_json;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = convert.add_subcommand(
      "via2coco", "VIA region json -> COCO instances json (MMDetection's balloon tutorial semantics)");
  cmd->add_option("via_json", o->via.via_json, "VIA annotation file (e.g. balloon/train/via_region_data.json)")->required();
  cmd->add_option("img_dir", o->via.image_dir, "folder holding the images named in the VIA file")->required();
  cmd->add_option("out_json", o->out_json, "COCO json to write")->required();
  cmd->add_option("--category", o->via.category, "name of the single category (id 0)")->capture_default_str();
  cmd->add_option("--nproc", o->via.num_threads, "threads reading image sizes")->capture_default_str();
  cmd->callback([o] {
    conv::write_json_file(o->out_json, conv::via_to_coco(o->via));
    std::cout << "save json file: " << o->out_json << "\n";
  });
}

void add_images2coco(CLI::App& convert) {
  struct Opts {
    conv::ImagesToCocoOptions images;
    std::string out;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = convert.add_subcommand(
      "images2coco", "a folder of images -> COCO json without annotations (for `cppdet test --format-only`)");
  cmd->add_option("img_dir", o->images.image_dir, "image folder (searched recursively)")->required();
  cmd->add_option("classes", o->images.classes_txt, "text file with one class name per line")->required();
  cmd->add_option("out", o->out,
                  "output json: a bare file name is saved as IMG_DIR/../annotations/OUT (as images2coco.py), "
                  "a path with a folder as given")
      ->required();
  cmd->add_option("-e,--exclude-extensions", o->images.exclude_extensions, "file endings to skip, e.g. png bmp");
  cmd->add_option("--nproc", o->images.num_threads, "threads reading image sizes")->capture_default_str();
  cmd->callback([o] {
    const std::string path = conv::images_to_coco_output_path(o->images.image_dir, o->out);
    conv::write_json_file(path, conv::images_to_coco(o->images));
    std::cout << "save json file: " << path << "\n";
  });
}

void add_cityscapes(CLI::App& convert) {
  struct Opts {
    conv::CityscapesOptions cs;
    std::string out_dir;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = convert.add_subcommand(
      "cityscapes", "Cityscapes gtFine instance maps -> instancesonly_filtered_gtFine_<split>.json (COCO, RLE masks)");
  cmd->add_option("cityscapes_root", o->cs.root, "Cityscapes root holding leftImg8bit/ and gtFine/")->required();
  cmd->add_option("--img-dir", o->cs.img_dir, "image folder under the root")->capture_default_str();
  cmd->add_option("--gt-dir", o->cs.gt_dir, "annotation folder under the root")->capture_default_str();
  cmd->add_option("-o,--out-dir", o->out_dir, "output folder (default: the Cityscapes root)");
  cmd->add_option("--nproc", o->cs.num_threads, "worker threads")->capture_default_str();
  cmd->callback([o] {
    std::vector<std::string> notes;
    const auto splits = conv::cityscapes_to_coco(o->cs, &notes);
    print_notes(notes);
    const fs::path out_dir = o->out_dir.empty() ? fs::path(o->cs.root) : fs::path(o->out_dir);
    for (const conv::CityscapesSplit& s : splits) {
      const std::string path = (out_dir / s.json_name).string();
      conv::write_json_file(path, s.coco);
      std::cout << "converted " << s.split << " (" << s.coco["images"].size() << " images) into " << path << "\n";
    }
  });
}

void add_voc(CLI::App& convert) {
  struct Opts {
    std::string devkit;
    std::string out_dir;
    std::string out_format = "coco";
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = convert.add_subcommand("voc", "Pascal VOC devkit -> COCO json per year and split (voc07_trainval.json, ...)");
  cmd->add_option("devkit_root", o->devkit, "VOCdevkit folder holding VOC2007/ and/or VOC2012/")->required();
  cmd->add_option("-o,--out-dir", o->out_dir, "output folder (default: the devkit root)");
  cmd->add_option("--out-format", o->out_format, "output format (only coco; pascal_voc.py's pkl is not written)")
      ->check(CLI::IsMember({"coco"}))
      ->capture_default_str();
  cmd->callback([o] {
    std::vector<std::string> notes;
    const auto datasets = conv::voc_to_coco(o->devkit, &notes);
    print_notes(notes);
    const fs::path out_dir = o->out_dir.empty() ? fs::path(o->devkit) : fs::path(o->out_dir);
    for (const conv::VocDataset& d : datasets) {
      const std::string path = (out_dir / (d.name + ".json")).string();
      conv::write_json_file(path, d.coco);
      std::cout << "converted " << d.name << " (" << d.coco["images"].size() << " images) into " << path << "\n";
    }
  });
}

}  // namespace

void register_convert(CLI::App& app) {
  CLI::App* convert = app.add_subcommand("convert", "convert datasets to COCO json (MMDetection's dataset converters)");
  convert->require_subcommand(1);
  add_via2coco(*convert);
  add_images2coco(*convert);
  add_cityscapes(*convert);
  add_voc(*convert);
}

}  // namespace cppdet::tools
