#pragma once
// Pascal VOC devkit -> COCO json files, as MMDetection's pascal_voc.py with --out-format coco:
//   * datasets voc07_{train,val,trainval,test} from VOC2007, voc12_{...} from VOC2012 and, when
//     both years exist, voc0712_{train,val,trainval}; a split whose ImageSets/Main/<split>.txt is
//     missing (in any of its years) is skipped with a note;
//   * images in list order, id from 0, file_name "VOC<year>/JPEGImages/<name>.jpg", width/height
//     from the XML <size> (images are not opened);
//   * boxes: the XML's 1-based pixel corners minus 1 (int(float(text)) - 1), bbox [x1, y1, x2-x1,
//     y2-y1] (integers), area = w*h, segmentation = the 4 corners [[x1,y1, x1,y2, x2,y2, x2,y1]];
//     per image the non-difficult objects first, then the difficult ones with iscrowd 1 (the
//     "ignore" field is 0 for all); annotation ids from 0 across the file;
//   * categories {"supercategory": "none", "id": 0..19, "name"} in VOC class order;
//   * an object without <difficult> counts as not difficult.
// Errors (missing or malformed XML, unknown class name, missing field) name the XML file.
#include <string>
#include <utility>
#include <vector>

#include "cppdet/data/converters/converter_io.h"

namespace cppdet::data::converters {

struct VocDataset {
  std::string name;  // e.g. "voc07_trainval"; written as <name>.json
  OrderedJson coco;
};

// Converts every dataset of the devkit. `notes` receives the skipped splits.
std::vector<VocDataset> voc_to_coco(const std::string& devkit_root, std::vector<std::string>* notes = nullptr);

}  // namespace cppdet::data::converters
