package tern.cli.bench;

import java.io.PrintWriter;
import java.time.Duration;
import tern.cli.CommandFailedException;
import tern.cli.Failures;
import tern.client.ConnectOptions;
import tern.client.Connection;
import tern.client.Tern;
import tern.client.TernException;

/** What every workload needs: the broker's address, the stall deadline, and the progress switch. */
record BenchContext(String host, int port, Duration timeout, boolean progress, PrintWriter err) {

    Connection connect(String name) {
        ConnectOptions options = ConnectOptions.builder()
                .host(host)
                .port(port)
                .name(name)
                .connectTimeout(Duration.ofSeconds(5))
                .reconnect(false)
                .build();
        try {
            return Tern.connect(options);
        } catch (TernException e) {
            throw new CommandFailedException("cannot connect to " + host + ":" + port + ": " + Failures.reason(e), e);
        }
    }
}
