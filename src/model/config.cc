#include "model/config.h"

namespace waymark {

std::string_view ChannelKindName(ChannelKind k) {
  switch (k) {
    case ChannelKind::kEmail:
      return "email";
    case ChannelKind::kSms:
      return "sms";
    case ChannelKind::kPush:
      return "push";
    case ChannelKind::kInApp:
      return "in_app";
    case ChannelKind::kWebhook:
      return "webhook";
  }
  return "?";
}

std::string_view StepKindName(StepKind k) {
  switch (k) {
    case StepKind::kWait:
      return "wait";
    case StepKind::kWaitUntil:
      return "wait_until";
    case StepKind::kWaitFor:
      return "wait_for";
    case StepKind::kBranch:
      return "branch";
    case StepKind::kSplit:
      return "split";
    case StepKind::kHoldout:
      return "holdout";
    case StepKind::kSend:
      return "send";
    case StepKind::kUpdateProfile:
      return "update_profile";
    case StepKind::kWebhook:
      return "webhook";
    case StepKind::kExit:
      return "exit";
  }
  return "?";
}

bool VariableNeeds::Wants(std::string_view member) const {
  if (all) return true;
  for (const std::string& m : members)
    if (m == member) return true;
  return false;
}

int JourneyDef::StepIndex(std::string_view step_id) const {
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].id == step_id) return int(i);
  return -1;
}

int Config::ChannelIndex(std::string_view id) const {
  for (size_t i = 0; i < channels.size(); ++i)
    if (channels[i].id == id) return int(i);
  return -1;
}

int Config::TemplateIndex(std::string_view id) const {
  for (size_t i = 0; i < templates.size(); ++i)
    if (templates[i].id == id) return int(i);
  return -1;
}

int Config::SegmentIndex(std::string_view id) const {
  for (size_t i = 0; i < segments.size(); ++i)
    if (segments[i].id == id) return int(i);
  return -1;
}

}  // namespace waymark
