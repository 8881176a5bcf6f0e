# attnlab on Debian 12, for machines that are not Debian: builds, installs and runs the smoke
# profile of every claim. From the repository's root:
#   docker build -t attnlab .
#   docker run --rm attnlab                                   # attnlab verify --profile smoke
#   docker run --rm -v "$PWD/out:/work" attnlab verify --profile default   # results in ./out
# The image builds for a portable x86-64 (ATTNLAB_NATIVE=OFF), so it runs on any x86-64 host;
# a native build (scripts/reproduce.sh on Debian 12) is faster.
FROM debian:12

RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      g++ cmake ninja-build git pkg-config libeigen3-dev libboost-random-dev \
      nlohmann-json3-dev libgtest-dev libgmock-dev libcli11-dev libbenchmark-dev \
      python3 python3-matplotlib python3-numpy python3-dev pybind11-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNLAB_NATIVE=OFF \
 && ninja -C /build attnlab \
 && cmake --install /build --prefix /usr/local \
 && rm -rf /build

WORKDIR /work
ENTRYPOINT ["attnlab"]
CMD ["verify", "--profile", "smoke"]
