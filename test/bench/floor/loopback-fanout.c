/*
 * The machine's floor for the live-state figure: the same fan-out with nothing of durable-entities in
 * it. One sender thread writes a 110-byte message to each of N loopback TCP sockets every 100 ms (the
 * stamp of the round in its first 8 bytes); P receiver processes read them with epoll and record each
 * delivery's latency from the start of its round. No WebSocket framing, no JSON, no storage, no Node:
 * what is left is the kernel's cost of N sends and N receives on the machine's cores.
 *
 *   cc -O2 -pthread -o loopback-fanout loopback-fanout.c
 *   ./loopback-fanout CONNECTIONS RECEIVER_PROCESSES SECONDS PORT
 *
 * Prints one JSON line: {"connections":N,"deliveries":D,"expected":E,"p50Ms":..,"p99Ms":..,"maxMs":..}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_BYTES 110
#define INTERVAL_MS 100

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void fail(const char *what) {
  perror(what);
  exit(1);
}

/* One receiver process: `count` connections, latencies appended to the shared array until `end_ms`. */
static void receive(struct sockaddr_in *address, int count, double end_ms, double *latencies, int *recorded, int capacity) {
  int one = 1, epoll = epoll_create1(0);
  for (int i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)address, sizeof *address) != 0) fail("connect");
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  }
  struct epoll_event events[512];
  char buffer[64 * MESSAGE_BYTES];
  while (now_ms() < end_ms) {
    int ready = epoll_wait(epoll, events, 512, 100);
    for (int j = 0; j < ready; j++) {
      /* Messages are small and the socket is read whenever it is ready, so reads end on message boundaries. */
      int bytes = read(events[j].data.fd, buffer, sizeof buffer);
      double at = now_ms();
      for (int offset = 0; offset + MESSAGE_BYTES <= bytes; offset += MESSAGE_BYTES) {
        double stamp;
        memcpy(&stamp, buffer + offset, sizeof stamp);
        int index = __sync_fetch_and_add(recorded, 1);
        if (index < capacity) latencies[index] = at - stamp;
      }
    }
  }
  exit(0);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s CONNECTIONS RECEIVER_PROCESSES SECONDS PORT\n", argv[0]);
    return 2;
  }
  int connections = atoi(argv[1]), receivers = atoi(argv[2]), rounds = atoi(argv[3]) * 1000 / INTERVAL_MS, one = 1;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[4]))};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0) fail("listen");

  int capacity = connections * (rounds + 1);
  double *latencies = mmap(NULL, sizeof(double) * capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int *recorded = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (latencies == MAP_FAILED || recorded == MAP_FAILED) fail("mmap");
  /* Receivers stop 2 s after the last round (a late delivery is still counted). */
  double start_ms = now_ms() + 3000, end_ms = start_ms + rounds * INTERVAL_MS + 2000;
  for (int p = 0; p < receivers; p++) {
    int count = connections / receivers + (p < connections % receivers);
    if (fork() == 0) {
      close(listener);
      receive(&address, count, end_ms, latencies, recorded, capacity);
    }
  }
  int *sockets = malloc(sizeof(int) * connections);
  for (int i = 0; i < connections; i++) {
    sockets[i] = accept(listener, NULL, NULL);
    if (sockets[i] < 0) fail("accept");
    setsockopt(sockets[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  char message[MESSAGE_BYTES];
  memset(message, 'x', sizeof message);
  for (int round = 0; round < rounds; round++) {
    double due = start_ms + round * INTERVAL_MS;
    while (now_ms() < due) usleep(200);
    double stamp = now_ms();
    memcpy(message, &stamp, sizeof stamp);
    for (int i = 0; i < connections; i++) send(sockets[i], message, sizeof message, MSG_NOSIGNAL);
  }
  while (wait(NULL) > 0) {
  }

  int deliveries = *recorded < capacity ? *recorded : capacity;
  if (deliveries == 0) fail("no deliveries");
  qsort(latencies, deliveries, sizeof(double), compare_doubles);
  printf("{\"connections\":%d,\"deliveries\":%d,\"expected\":%d,\"p50Ms\":%.2f,\"p99Ms\":%.2f,\"maxMs\":%.2f}\n", connections, deliveries,
         connections * rounds, latencies[deliveries / 2], latencies[(int)(deliveries * 0.99)], latencies[deliveries - 1]);
  return 0;
}
