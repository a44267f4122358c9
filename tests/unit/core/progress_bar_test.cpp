#include "cppdet/core/progress_bar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace cppdet {
namespace {

TEST(ProgressBar, FormatsLikeMmcv) {
  EXPECT_EQ(ProgressBar::format(50, 100, 4.0, 0), "50/100, 12.5 task/s, elapsed: 4s, ETA:     4s");
  EXPECT_EQ(ProgressBar::format(1, 4, 1.0, 4), "[>   ] 1/4, 1.0 task/s, elapsed: 1s, ETA:     3s");
  EXPECT_EQ(ProgressBar::format(7, 0, 2.0, 10), "completed: 7, elapsed: 2s, 3.5 tasks/s");
}

TEST(ProgressBar, PlainLinesAtEveryTenPercentWhenNotATerminal) {
  std::ostringstream out;
  {
    ProgressBar bar(20, &out, false);
    for (int i = 0; i < 20; ++i) bar.update();
  }
  std::string text = out.str();
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 10u);
  EXPECT_NE(text.find("20/20,"), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressBar, RedrawsOneLineOnATerminal) {
  std::ostringstream out;
  {
    ProgressBar bar(3, &out, true);
    bar.update();
    bar.update(2);
  }
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("] 3/3, "), std::string::npos);
}

}  // namespace
}  // namespace cppdet
