// platform/hosted.h — the hosted-only policies (POSIX and the C++ thread library): MmapSource, MutexLock,
// GetrandomSecret.
// The portable core (alloc/) never includes this.
#pragma once

#include "platform/getrandom_secret.h"
#include "platform/mmap_source.h"
#include "platform/mutex_lock.h"
