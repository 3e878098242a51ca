#include "common/stream_reader.hpp"

#include <algorithm>

#include "common/protocol/names.hpp"

namespace dockmesh::common {

namespace names = protocol::names;

stream_reader::stream_reader(std::string stream, std::string host, std::int64_t window,
                             clock::time_point now)
    : stream_(std::move(stream)),
      host_(std::move(host)),
      stamp_("agent:" + host_),
      window_(window),
      last_grant_(now) {}

stream_input stream_reader::accept(const bus_message& m) {
  const envelope& e = m.env;
  if (e.action != names::stream_data && e.action != names::stream_end)
    return stream_input::not_mine;
  if (m.sender != stamp_ || !e.body.is_object()) return stream_input::not_mine;
  auto s = e.body.find("stream");
  if (s == e.body.end() || !s->is_string() || s->get_ref<const std::string&>() != stream_)
    return stream_input::not_mine;
  auto q = e.body.find("seq");
  std::int64_t seq = q != e.body.end() && q->is_number_integer() ? q->get<std::int64_t>() : 0;
  if (seq <= last_seq_) return stream_input::duplicate;
  gaps_ += seq - last_seq_ - 1;
  last_seq_ = seq;
  return e.action == names::stream_end ? stream_input::end : stream_input::data;
}

void stream_reader::consumed(std::size_t bytes) {
  pending_ += static_cast<std::int64_t>(std::max(bytes, min_stream_charge));
}

std::optional<std::int64_t> stream_reader::due(clock::time_point now) {
  if (pending_ * 2 < window_ && now - last_grant_ < renew_every) return std::nullopt;
  std::int64_t grant = std::min(pending_, max_stream_credit);
  pending_ -= grant;
  last_grant_ = now;
  return grant;
}

envelope stream_reader::credit_message(std::int64_t bytes, const std::string& from) const {
  envelope e;
  e.id = new_message_id();
  e.action = names::stream_credit;
  e.from = from;
  e.body = {{"stream", stream_}, {"credit", bytes}};
  return e;
}

envelope stream_reader::cancel_message(const std::string& from) const {
  envelope e;
  e.id = new_message_id();
  e.action = names::stream_cancel;
  e.from = from;
  e.body = {{"stream", stream_}};
  return e;
}

}  // namespace dockmesh::common
