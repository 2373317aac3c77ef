package tern.client;

/** A request's subject had no subscriber at all: the server answered with a NO_RESPONDERS status message. */
public final class NoRespondersException extends TernException {
    private static final long serialVersionUID = 1L;

    public NoRespondersException(String subject) {
        super("no responders for " + subject);
    }
}
