#include "experiments/build_info.h"

#include "attnlab_git.h"  // generated in the build tree

namespace attnlab {

std::string build_commit() { return ATTNLAB_GIT_COMMIT; }
bool build_dirty() { return ATTNLAB_GIT_DIRTY != 0; }

}  // namespace attnlab
