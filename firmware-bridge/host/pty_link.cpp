#include "pty_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace rfx {

bool PtyLink::allocate() {
  if (next_fd_ >= 0) ::close(next_fd_);
  next_fd_ = -1;
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    fprintf(stderr, "reflex-bridge-host: posix_openpt: %s\n", strerror(errno));
    return false;
  }
  const char* name = nullptr;
  if (grantpt(fd) != 0 || unlockpt(fd) != 0 || (name = ptsname(fd)) == nullptr) {
    fprintf(stderr, "reflex-bridge-host: grantpt/unlockpt/ptsname: %s\n", strerror(errno));
    ::close(fd);
    return false;
  }
  next_path_ = name;
  termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  // A fresh master reports no hangup although nobody has the slave open, and bytes written
  // then would reach the next opener stale. Opening and closing the slave once puts the
  // master in the hung-up state until a real host opens it.
  int s = ::open(next_path_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (s >= 0) ::close(s);
  next_fd_ = fd;
  return true;
}

bool PtyLink::unplug() {
  bool ok = allocate();
  close();
  // Like /dev/serial/by-id, the name is gone while the device is unplugged.
  remove_link();
  return ok;
}

bool PtyLink::announce() {
  if (next_fd_ < 0 && !allocate()) return false;
  close();
  fd_ = next_fd_;
  path_ = next_path_;
  next_fd_ = -1;
  write_blocked_ = false;

  if (!link_path_.empty()) {
    std::string tmp = link_path_ + ".tmp" + std::to_string(getpid());
    unlink(tmp.c_str());
    if (symlink(path_.c_str(), tmp.c_str()) != 0 || rename(tmp.c_str(), link_path_.c_str()) != 0) {
      fprintf(stderr, "reflex-bridge-host: cannot point %s at %s: %s\n", link_path_.c_str(), path_.c_str(), strerror(errno));
      unlink(tmp.c_str());
    }
  }
  printf("PTY %s\n", path_.c_str());
  fflush(stdout);
  return true;
}

size_t PtyLink::unread_by_host() const {
  if (fd_ < 0) return 0;
  // The slave's input queue is only visible from the slave side. A second open of the
  // slave is harmless: the host's own descriptor keeps it from hanging up when we close.
  int s = ::open(path_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (s < 0) return 0;
  int n = 0;
  if (ioctl(s, FIONREAD, &n) != 0) n = 0;
  ::close(s);
  return n > 0 ? size_t(n) : 0;
}

void PtyLink::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void PtyLink::close_all() {
  close();
  if (next_fd_ >= 0) ::close(next_fd_);
  next_fd_ = -1;
}

void PtyLink::remove_link() {
  if (!link_path_.empty()) unlink(link_path_.c_str());
}

bool PtyLink::peer_present() {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 0) < 0) return false;
  return (p.revents & (POLLHUP | POLLERR | POLLNVAL)) == 0;
}

size_t PtyLink::read(uint8_t* buf, size_t max) {
  if (fd_ < 0) return 0;
  ssize_t n = ::read(fd_, buf, max);
  if (n > 0) return size_t(n);
  // EIO is the host closing the slave: expected, the link layer notices via peer_present().
  if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) io_errors_++;
  return 0;
}

size_t PtyLink::write(const uint8_t* buf, size_t len) {
  write_blocked_ = false;
  if (fd_ < 0) return 0;
  ssize_t n = ::write(fd_, buf, len);
  if (n >= 0) {
    write_blocked_ = size_t(n) < len;
    return size_t(n);
  }
  if (errno == EAGAIN) write_blocked_ = true;
  else if (errno != EINTR && errno != EIO) io_errors_++;
  return 0;
}

}  // namespace rfx
