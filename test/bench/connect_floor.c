/* connect_floor: the CPU one blocking TCP connect + close to PORT on 127.0.0.1 costs this process, user and
 * kernel (the handshake on loopback runs in the connecting task), the floor of a tcp check's run.
 * Usage: connect_floor PORT COUNT   prints microseconds per connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc != 3)
                return 2;
        int n = atoi(argv[2]);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timespec t0, t1, pause = { 0, 1000000 };
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        for (int i = 0; i < n; i++) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                        perror("connect_floor");
                        return 1;
                }
                close(fd);
                nanosleep(&pause, NULL);        /* spread like checks, not a tight loop */
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        printf("%.1f\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / n);
        return 0;
}
