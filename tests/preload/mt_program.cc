// tests/preload/mt_program.cc — a multithreaded C++ program of ours for the drop-in malloc tests and benchmark.
//
// Four workers build and tear down standard containers (map, unordered_map, vector, string, shared_ptr) with
// seeded pseudo-random sizes, and hand half of their objects to the next worker through a locked queue, so that
// blocks are freed by a thread other than the one that allocated them (the arena lookup's real work). The output
// is a checksum per worker and depends only on the seed, so a run under any malloc must print the same lines.
// With WAVES, the workers run that many times one after another, each time as new threads (a program that runs its
// work in successive threads: an arena whose threads ended should serve the next ones, //bench:preload's
// `mt_program waves` row).
//
//   mt_program [ROUNDS [WAVES]]    (default 40 rounds, 1 wave)
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kWorkers = 4;

// A deterministic generator (xorshift64*), one per worker.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

struct Parcel {
  std::string name;
  std::vector<std::uint64_t> values;
};

// One queue per worker: worker i posts to queue (i + 1) % kWorkers. A round ends with an empty parcel list.
struct Mailbox {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::vector<std::shared_ptr<Parcel>>> rounds;

  void post(std::vector<std::shared_ptr<Parcel>> parcels) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      rounds.push_back(std::move(parcels));
    }
    ready.notify_one();
  }
  std::vector<std::shared_ptr<Parcel>> take() {
    std::unique_lock<std::mutex> lock(mutex);
    ready.wait(lock, [this] { return !rounds.empty(); });
    std::vector<std::shared_ptr<Parcel>> parcels = std::move(rounds.front());
    rounds.pop_front();
    return parcels;
  }
};

std::uint64_t mix(std::uint64_t hash, std::uint64_t value) { return (hash ^ value) * 0x100000001B3ULL; }

std::uint64_t worker(int id, int rounds, Mailbox* boxes) {
  Rng rng{0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(id + 1)};
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (int round = 0; round < rounds; ++round) {
    std::map<std::string, std::vector<std::uint64_t>> tree;
    std::unordered_map<std::uint64_t, std::string> table;
    std::vector<std::shared_ptr<Parcel>> outgoing;
    for (int i = 0; i < 2000; ++i) {
      const std::uint64_t key = rng.next();
      std::string name = "item-" + std::to_string(key % 100000) + std::string(rng.below(80), 'x');
      std::vector<std::uint64_t> values(1 + rng.below(rng.below(10) == 0 ? 2000 : 40), key);
      table.emplace(key, name);
      if (i % 2 == 0) {
        outgoing.push_back(std::make_shared<Parcel>(Parcel{name, values}));
      }
      tree[std::move(name)] = std::move(values);
      if (tree.size() > 500) tree.erase(tree.begin());
    }
    for (const auto& [name, values] : tree) hash = mix(mix(hash, name.size()), values.size());
    for (const auto& [key, name] : table) hash = mix(hash, key % 1000 + name.size());
    boxes[(id + 1) % kWorkers].post(std::move(outgoing));
    // Free what the previous worker allocated, after reading it.
    for (const std::shared_ptr<Parcel>& parcel : boxes[id].take()) {
      hash = mix(mix(hash, parcel->name.size()), parcel->values.size());
    }
  }
  return hash;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 40;
  const int waves = argc > 2 ? std::atoi(argv[2]) : 1;
  if (rounds <= 0 || waves <= 0 || argc > 3) {
    std::fprintf(stderr, "usage: mt_program [ROUNDS > 0 [WAVES > 0]]\n");
    return 2;
  }
  for (int wave = 0; wave < waves; ++wave) {
    Mailbox boxes[kWorkers];
    std::uint64_t results[kWorkers] = {};
    std::vector<std::thread> threads;
    for (int id = 0; id < kWorkers; ++id) {
      threads.emplace_back([id, rounds, &boxes, &results] { results[id] = worker(id, rounds, boxes); });
    }
    for (std::thread& t : threads) t.join();
    for (int id = 0; id < kWorkers; ++id) {
      if (waves > 1) std::printf("wave %d ", wave);
      std::printf("worker %d: %016llx\n", id, static_cast<unsigned long long>(results[id]));
    }
  }
  return 0;
}
