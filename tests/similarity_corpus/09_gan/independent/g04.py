import keras
import tensorflow as tf


def _bce(target, logits):
    """Mean binary cross-entropy of logits against a constant target (0 or 1)."""
    labels = tf.fill(tf.shape(logits), float(target))
    return keras.ops.mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


def discriminator_loss(logits_real, logits_fake):
    return _bce(1, logits_real) + _bce(0, logits_fake)


def generator_loss(logits_fake):
    return _bce(1, logits_fake)


def build_generator(latent_dim, hidden_units, data_dim):
    layers = [keras.layers.Dense(hidden_units, activation="relu") for _ in range(2)]
    layers.append(keras.layers.Dense(data_dim))
    return keras.Sequential([keras.layers.InputLayer(shape=(latent_dim,))] + layers)


def build_discriminator(data_dim, hidden_units):
    layers = [keras.layers.Dense(hidden_units, activation="relu") for _ in range(2)]
    layers.append(keras.layers.Dense(1))
    return keras.Sequential([keras.layers.InputLayer(shape=(data_dim,))] + layers)


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    d_loss = _discriminator_update(generator, discriminator, d_optimizer, real, noise)
    g_loss = _generator_update(generator, discriminator, g_optimizer, noise)
    return d_loss, g_loss


def _discriminator_update(generator, discriminator, optimizer, real, noise):
    fake = generator(noise, training=False)
    with tf.GradientTape() as tape:
        loss = discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
    variables = discriminator.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


def _generator_update(generator, discriminator, optimizer, noise):
    with tf.GradientTape() as tape:
        loss = generator_loss(discriminator(generator(noise, training=True), training=False))
    variables = generator.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss
