// stream_reader: the reader's half of a stream (docs/streams.md), without sockets, for the CLI
// and the bridge alike. It recognises the stream's messages (right stream id, stamped by the
// agent that opened it), drops copies a second broker delivered (seq already seen), counts what
// was consumed, and says when to send stream-credit: after half the window was consumed, and at
// least every `renew_every` to keep the lease. A plain value owned by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/bus_client.hpp"
#include "common/stream_args.hpp"

namespace dockmesh::common {

enum class stream_input {
  not_mine,   // another stream's message, or not stamped by the stream's agent
  duplicate,  // a copy of a piece already seen
  data,       // a new stream-data piece
  end,        // stream-end: the stream is over
};

class stream_reader {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds renew_every{3000};

  // `host`: the agent's fqdn (its stamp is agent:<host>); `window`: the opening credit.
  stream_reader(std::string stream, std::string host, std::int64_t window, clock::time_point now);

  stream_input accept(const bus_message& m);
  // Call when a piece was consumed (written out): its charge counts towards the next grant.
  void consumed(std::size_t bytes);
  // The credit to grant now (0 = a lease renewal only), or nullopt if nothing is due.
  std::optional<std::int64_t> due(clock::time_point now);
  // The stream-credit or stream-cancel request to publish on req/host/<host>/.
  envelope credit_message(std::int64_t bytes, const std::string& from) const;
  envelope cancel_message(const std::string& from) const;

  const std::string& stream() const { return stream_; }
  const std::string& host() const { return host_; }
  std::int64_t last_seq() const { return last_seq_; }
  std::int64_t gaps() const { return gaps_; }  // pieces that never arrived (a broker lost them)

 private:
  std::string stream_, host_, stamp_;
  std::int64_t window_;
  std::int64_t pending_ = 0;  // consumed, not yet granted back
  std::int64_t last_seq_ = 0;
  std::int64_t gaps_ = 0;
  clock::time_point last_grant_;
};

}  // namespace dockmesh::common
