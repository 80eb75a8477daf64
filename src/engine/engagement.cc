// Shard: delivery and engagement events and conversion attribution (docs/configuration.md,
// "Delivery and engagement events" and "Attribution").

#include <algorithm>
#include <charconv>

#include "core/hash.h"
#include "engine/quote.h"
#include "engine/shard.h"

namespace waymark {

namespace {

using engine_internal::Quote;

// A string property, or "" when absent or not a string.
std::string_view StringProperty(const Event& e, std::string_view name) {
  const Value* v = e.properties.Find(name);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

// Marks `message_id` opened or clicked in the profile's engaged messages; true when it was not
// yet (a unique open or click). An event without a message id is never unique.
bool NoteEngaged(ProfileState* ps, std::string_view message_id, bool click) {
  if (message_id.empty()) return false;
  uint64_t h = Hash64(message_id);
  EngagedMessage m{h};
  auto it = std::find_if(ps->engaged.begin(), ps->engaged.end(),
                         [&](const EngagedMessage& x) { return x.message == h; });
  if (it != ps->engaged.end()) {
    m = *it;
    ps->engaged.erase(it);
  } else if (ps->engaged.size() >= kEngagedMessageLimit) {
    ps->engaged.erase(ps->engaged.begin());
  }
  bool& flag = click ? m.clicked : m.opened;
  bool first = !flag;
  flag = true;
  ps->engaged.push_back(m);  // the most recently engaged last
  return first;
}

}  // namespace

void Shard::ApplyDeliveryEvent(ProfileState* ps, const Event& e,
                               std::vector<std::string>* changed) {
  if (e.type != EventType::kTrack) return;
  if (e.name == kUnsubscribedEvent) {
    ApplyUnsubscribe(ps, e, changed);
  } else if (e.name == kMessageOpenedEvent) {
    CountEngagement(ps, e, /*click=*/false);
  } else if (e.name == kMessageClickedEvent) {
    CountEngagement(ps, e, /*click=*/true);
  }
}

void Shard::ApplyUnsubscribe(ProfileState* ps, const Event& e, std::vector<std::string>* changed) {
  const Value* ch = e.properties.Find(kChannelProperty);
  bool named = ch != nullptr && !ch->is_null() && !(ch->is_string() && ch->as_string().empty());
  bool known = named && ch->is_string() && cfg_.ChannelIndex(ch->as_string()) >= 0;
  std::string trait;
  if (known) {
    // As identify traits `consent: { <channel>: false }` would, keeping the other channels'.
    const Value* old = ps->profile.traits.Find("consent");
    Value consent = old != nullptr && old->is_object() ? *old : Value::EmptyObject();
    consent.Set(ch->as_string(), Value(false));
    if (ps->profile.SetTrait("consent", consent)) trait = "consent";
    if (ps->traced) {
      TraceLine(ps, "unsubscribe: consent." + ch->as_string() + " is now false");
    }
  } else {
    // No channel means all of them. A channel no config has is honoured the same way: sending
    // to someone who asked to stop is worse than not sending on a channel they did not name.
    if (ps->profile.SetTrait("unsubscribed", Value(true))) trait = "unsubscribed";
    if (ps->traced) {
      TraceLine(ps, std::string("unsubscribe: unsubscribed from all channels") +
                        (named ? " (channel " + ch->ToJson() + " is not configured)" : ""));
    }
  }
  if (!trait.empty() && std::find(changed->begin(), changed->end(), trait) == changed->end()) {
    changed->push_back(trait);
  }
}

void Shard::CountEngagement(ProfileState* ps, const Event& e, bool click) {
  std::string_view journey_id = StringProperty(e, kJourneyProperty);
  std::string_view step_id = StringProperty(e, kStepProperty);
  std::string_view message_id = StringProperty(e, kMessageIdProperty);
  std::string what = click ? "click" : "open";
  int index = journey_id.empty() ? -1 : config_->JourneyIndex(journey_id);
  if (index < 0) {
    ++results_.counters.engagement_unmatched;
    if (ps->traced) {
      TraceLine(ps,
                "engagement: " + what + " of message " + Quote(message_id) + " names " +
                    (journey_id.empty() ? std::string("no journey")
                                        : "no configured journey (" + Quote(journey_id) + ")") +
                    ", not counted");
    }
    return;
  }
  JourneyStats& stats = results_.journeys[index];
  // The sending instance's own version places the step where its send was counted; without
  // one the journey's current version does.
  int step = kEnd;
  Instance* sender = FindSender(ps, journey_id, step_id, message_id, &step);
  if (sender == nullptr) step = config_->journeys[index]->StepIndex(step_id);
  if (step < 0) {
    ++stats.engagement_unmatched;
    if (ps->traced) {
      TraceLine(ps, "engagement: " + what + " of message " + Quote(message_id) + " names step " +
                        Quote(step_id) + ", which journey " + std::string(journey_id) +
                        " does not have; counted as unmatched");
    }
    return;
  }

  StepStats& ss = stats.steps[stats.StepSlot(step_id)];
  bool unique = NoteEngaged(ps, message_id, click);
  if (click) {
    ++ss.clicked;
    ss.unique_clicked += unique ? 1 : 0;
  } else {
    ++ss.opened;
    ss.unique_opened += unique ? 1 : 0;
  }
  if (click && sender != nullptr) {
    sender->last_click_step = step;
    sender->last_click_at = now_;
  }
  if (ps->traced) {
    TraceLine(ps, "engagement: " + what + " of message " + Quote(message_id) +
                      " counts on journey " + std::string(journey_id) + " step " + Quote(step_id) +
                      (unique ? " (first " + what + ")" : " (repeat)") +
                      (sender == nullptr ? std::string()
                       : click           ? "; instance " + HexId(sender->id) + " notes the click"
                                         : "; instance " + HexId(sender->id)));
  }
}

Instance* Shard::FindSender(ProfileState* ps, std::string_view journey_id, std::string_view step_id,
                            std::string_view message_id, int* step) {
  uint64_t mid = 0;
  const char* end = message_id.data() + message_id.size();
  if (message_id.size() != 16 || std::from_chars(message_id.data(), end, mid, 16).ptr != end) {
    return nullptr;  // not an id the engine made
  }
  for (Instance& inst : ps->instances) {
    if (inst.state == Instance::State::kEnded || inst.journey->id != journey_id) continue;
    int position = inst.journey->StepIndex(step_id);
    if (position < 0) continue;
    // Message ids hash (instance, step, visit) with the visit count at the send (Shard::
    // EmitMessage); every visit so far is a candidate.
    uint64_t base = HashCombine(inst.id, uint64_t(position));
    for (uint32_t visit = 1; visit <= inst.visits; ++visit) {
      if (HashCombine(base, visit) == mid) {
        *step = position;
        return &inst;
      }
    }
  }
  return nullptr;
}

int Shard::Attribute(const Instance& inst, Time at, std::string* why) {
  const JourneyDef& j = *inst.journey;
  auto step_name = [&](int step) { return Quote(j.steps[step].id); };
  std::string click;
  if (inst.last_click_step != kEnd) {
    if (at - inst.last_click_at <= j.ClickWindow()) {
      *why = "last touch: clicked at " + FormatIsoTime(inst.last_click_at) + ", within " +
             FormatDuration(j.ClickWindow()) + " before the goal";
      return inst.last_click_step;
    }
    click = "the last click (" + step_name(inst.last_click_step) + " at " +
            FormatIsoTime(inst.last_click_at) + ") is more than " +
            FormatDuration(j.ClickWindow()) + " before the goal";
  } else {
    click = "no click";
  }
  if (j.attribution == JourneyDef::Attribution::kClick) {
    *why = click + ", and attribution is click";
    return kEnd;
  }
  if (inst.last_sent.step == kEnd) {
    *why = click + " and no message sent";
    return kEnd;
  }
  *why = click + "; view-through: last sent at " + FormatIsoTime(inst.last_sent.at) + " (message " +
         inst.last_sent.id + ")";
  return inst.last_sent.step;
}

void Shard::MergeEngaged(ProfileState* ps, const std::vector<EngagedMessage>& other) {
  // The other profile's engagements go first (older), the profile's own keep their recency.
  std::vector<EngagedMessage> merged;
  for (const EngagedMessage& m : other) {
    auto mine = std::find_if(ps->engaged.begin(), ps->engaged.end(),
                             [&](const EngagedMessage& x) { return x.message == m.message; });
    if (mine != ps->engaged.end()) {
      mine->opened |= m.opened;
      mine->clicked |= m.clicked;
    } else {
      merged.push_back(m);
    }
  }
  merged.insert(merged.end(), ps->engaged.begin(), ps->engaged.end());
  if (merged.size() > kEngagedMessageLimit) {
    merged.erase(merged.begin(), merged.end() - kEngagedMessageLimit);
  }
  ps->engaged = std::move(merged);
}

expr::MessageView Shard::LastMessageView(const Instance& inst) const {
  expr::MessageView view;
  const SentMessage& m = inst.last_sent;
  if (m.step == kEnd || size_t(m.step) >= inst.journey->steps.size()) return view;
  view.id = m.id;
  view.step = inst.journey->steps[m.step].id;
  if (m.channel >= 0 && size_t(m.channel) < cfg_.channels.size()) {
    view.channel = cfg_.channels[m.channel].id;
  }
  view.sent_at = m.at;
  return view;
}

}  // namespace waymark
