// The loopback sinks of tests/channels, started by the delivery benchmarks: an SMTP server
// (smtp_sink.py on Debian's /usr/bin/python3 with aiosmtpd) and a webhook receiver
// (webhook_sink.js on node). Each starts once, on a free port, and is stopped at exit.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace waymark::bench {

// A sink process, killed when it goes out of scope.
class Sink {
 public:
  // Runs `argv` plus --port-file and --max-seconds; null when it does not start listening.
  static std::unique_ptr<Sink> Start(std::vector<std::string> argv) {
    // mkdtemp replaces the template's last six characters, which must be 'X'.
    std::string dir_template = "/tmp/waymark-bench-" + std::string(6, 'X');
    if (mkdtemp(dir_template.data()) == nullptr) return nullptr;
    auto sink = std::unique_ptr<Sink>(new Sink(dir_template));
    argv.insert(argv.end(), {"--port-file", sink->dir_ + "/port", "--max-seconds", "900"});
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&sink->pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) {
      return nullptr;
    }
    // Startup is wall-clock by nature: poll for the port file for up to 15 s.
    for (int i = 0; i < 300; ++i) {
      std::ifstream in(sink->dir_ + "/port");
      if (in >> sink->port_) return sink;
      if (waitpid(sink->pid_, nullptr, WNOHANG) == sink->pid_) {
        sink->pid_ = 0;
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }
  ~Sink() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::remove((dir_ + "/port").c_str());
    rmdir(dir_.c_str());
  }
  int port() const { return port_; }

 private:
  explicit Sink(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

inline const std::string& ChannelsTestDir() {
  static const std::string dir = WAYMARK_CHANNELS_TEST_DIR;
  return dir;
}

// The SMTP sink; null when it cannot start (python3-aiosmtpd missing).
inline Sink* SmtpSink() {
  static std::unique_ptr<Sink> sink =
      Sink::Start({"/usr/bin/python3", ChannelsTestDir() + "/smtp_sink.py"});
  return sink.get();
}

// The webhook sink, checking signatures made with the secret "s"; null when node is missing.
inline Sink* WebhookSink() {
  static std::unique_ptr<Sink> sink = Sink::Start(
      {"/usr/bin/env", "node", ChannelsTestDir() + "/webhook_sink.js", "--secret", "s"});
  return sink.get();
}

}  // namespace waymark::bench
