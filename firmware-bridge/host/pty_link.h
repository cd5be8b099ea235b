// The USB-serial stand-in: a pseudo-terminal master. The slave path is what a host opens
// (and what --link points to, like /dev/serial/by-id/...).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>

namespace rfx {

class PtyLink {
 public:
  explicit PtyLink(std::string link_path) : link_path_(std::move(link_path)) {}
  ~PtyLink() { close_all(); }
  PtyLink(const PtyLink&) = delete;
  PtyLink& operator=(const PtyLink&) = delete;

  // Opens a new pty, prints `PTY <path>` on stdout and repoints the symlink.
  bool open() { return allocate() && announce(); }
  // DISCONNECT, first half: allocate the next pty (so it gets a different number, like a
  // re-enumerated USB device), then close the current master. Nobody is told its path yet.
  bool unplug();
  // DISCONNECT, second half: make the allocated pty current, print it, move the symlink.
  bool announce();
  // Closes the master: the slave side sees a hangup, like a USB unplug.
  void close();
  void close_all();
  void remove_link();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Whether some process has the slave open (no POLLHUP on the master).
  bool peer_present();
  // Nonblocking; 0 when nothing is available or the peer is gone.
  size_t read(uint8_t* buf, size_t max);
  // Nonblocking; bytes accepted (0 on EAGAIN or hangup). write_blocked() says which.
  size_t write(const uint8_t* buf, size_t len);
  bool write_blocked() const { return write_blocked_; }
  // Bytes written to the current pty that the host has not read yet (0 if unknown).
  size_t unread_by_host() const;
  uint64_t io_errors() const { return io_errors_; }

 private:
  std::string link_path_;
  bool allocate();
  std::string path_;
  int fd_ = -1;
  std::string next_path_;
  int next_fd_ = -1;
  bool write_blocked_ = false;
  uint64_t io_errors_ = 0;
};

}  // namespace rfx
