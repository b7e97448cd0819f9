/* An MPI check that ranks really talk: a token goes once around the ring (each rank adds its number), then an
 * allreduce sums the ranks. Rank 0 prints "ring ok size=N sum=S" only when both agree with N*(N-1)/2; every rank
 * prints one "rank R of N" line with the Slurm or Open MPI task id it was given, so a launcher's view can be checked. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, size, token, sum;
    char host[MPI_MAX_PROCESSOR_NAME];
    int hostlen;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(host, &hostlen);
    const char *procid = getenv("SLURM_PROCID");
    const char *ompi = getenv("OMPI_COMM_WORLD_RANK");
    printf("rank %d of %d on %s (SLURM_PROCID=%s OMPI_COMM_WORLD_RANK=%s)\n", rank, size, host,
           procid ? procid : "-", ompi ? ompi : "-");
    fflush(stdout);

    int expected = size * (size - 1) / 2;
    if (size == 1) {
        token = 0;
    } else if (rank == 0) {
        token = 0;
        MPI_Send(&token, 1, MPI_INT, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(&token, 1, MPI_INT, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
        MPI_Recv(&token, 1, MPI_INT, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        token += rank;
        MPI_Send(&token, 1, MPI_INT, (rank + 1) % size, 0, MPI_COMM_WORLD);
    }
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);

    int status = 0;
    if (rank == 0) {
        if (token == expected && sum == expected) {
            printf("ring ok size=%d sum=%d\n", size, sum);
        } else {
            printf("ring FAILED size=%d token=%d sum=%d expected=%d\n", size, token, sum, expected);
            status = 1;
        }
        fflush(stdout);
    }
    MPI_Finalize();
    return status;
}
